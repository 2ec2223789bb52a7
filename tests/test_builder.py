"""The builder: editors and owners make forms; each route answers HTML (303) and JSON alike."""

from __future__ import annotations

import html
import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from app import create_app
from app.builder.forms import ENDPOINT_ONLY_SETTINGS
from app.builder.forms import SettingsForm
from app.builder.forms import editor_data
from app.builder.forms import field_changes
from app.builder.forms import field_editor_class
from app.builder.forms import input_name_for
from app.builder.forms import settings_data
from app.extensions import db
from app.fields import FIELD_TYPES
from app.fields import get_field_type
from app.fields import parse_field_specs
from app.models import Form
from app.models import FormStatus
from app.models import Role
from app.models import User
from app.services import forms
from app.services.accounts import passwords
from app.services.forms.settings import SETTINGS
from app.services.forms.templates import TEMPLATES
from tests.auth_helpers import AuthActions
from tests.form_helpers import every_setting
from tests.form_helpers import make_form

# --- helpers ---------------------------------------------------------------------------------


def new_form(app, template: str = "contact", **settings) -> int:
    with app.app_context():
        form = forms.create_form(None, template=template)
        for name, value in settings.items():
            setattr(form, name, value)
        db.session.commit()
        return form.id


def form_with_field(app, type_name: str) -> tuple[int, str]:
    """A blank form with one field of ``type_name``; its id and the field's key."""
    with app.app_context():
        form = forms.create_form(None)
        return form.id, forms.add_field(form, type_name).key


def fetch_form(app, form_id: int) -> Form:
    with app.app_context():
        form = db.session.get(Form, form_id)
        if form is not None:
            form.published_version  # load it before detaching
            db.session.expunge(form)
        return form


def keys_of(app, form_id: int) -> list[str]:
    return [item["key"] for item in fetch_form(app, form_id).draft_fields]


def publish(app, form_id: int) -> None:
    with app.app_context():
        forms.publish(db.session.get(Form, form_id), None)


def json_post(client, actions: AuthActions, path: str, data=None, json=None):
    headers = {"Accept": "application/json", "X-CSRFToken": actions.csrf_token()}
    return client.post(path, data=data, json=json, headers=headers)


def field_error(response, input_name: str) -> str:
    """The error message shown next to the input ``input_name`` on an HTML page."""
    page = response.get_data(as_text=True)
    match = re.search(rf'id="{input_name}-error" class="field-error">([^<]*)<', page)
    assert match, f"no error shown next to {input_name}"
    return html.unescape(match.group(1))


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    """These tests never check a password; full-cost argon2 would make them several times slower."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


# --- who may do what -------------------------------------------------------------------------

# (method, path, data, least role); {id} is a form with a "name" field, {trashed} one in the trash.
ROUTES = [
    ("GET", "/forms", None, Role.VIEWER),
    ("GET", "/forms/trash", None, Role.VIEWER),
    ("GET", "/forms/new", None, Role.EDITOR),
    ("POST", "/forms/new", {"template": "blank"}, Role.EDITOR),
    ("GET", "/forms/{id}", None, Role.EDITOR),
    (
        "POST",
        "/forms/{id}/details",
        {"title": "T", "slug": "t-form", "description": ""},
        Role.EDITOR,
    ),
    ("POST", "/forms/{id}/publish", {}, Role.EDITOR),
    ("GET", "/forms/{id}/settings", None, Role.EDITOR),
    ("POST", "/forms/{id}/settings", {"status": "open", "submit_label": "Go"}, Role.EDITOR),
    ("POST", "/forms/{id}/duplicate", {}, Role.EDITOR),
    ("POST", "/forms/{id}/trash", {}, Role.EDITOR),
    ("POST", "/forms/{trashed}/restore", {}, Role.EDITOR),
    ("POST", "/forms/{id}/fields", {"type": "email"}, Role.EDITOR),
    ("GET", "/forms/{id}/fields/name", None, Role.EDITOR),
    ("POST", "/forms/{id}/fields/name", {"label": "Name", "key": "name"}, Role.EDITOR),
    ("POST", "/forms/{id}/fields/name/duplicate", {}, Role.EDITOR),
    ("POST", "/forms/{id}/fields/name/delete", {}, Role.EDITOR),
    ("POST", "/forms/{id}/fields/name/move", {"direction": "down"}, Role.EDITOR),
    ("POST", "/forms/{id}/order", {"order": ["message", "email", "name"]}, Role.EDITOR),
]


def route_path(app, path: str) -> str:
    form_id = new_form(app, "contact")
    trashed = new_form(app, "blank", deleted_at=datetime.now(UTC))
    return path.format(id=form_id, trashed=trashed)


@pytest.mark.parametrize(("method", "path", "data", "least_role"), ROUTES)
@pytest.mark.parametrize("role", list(Role))
def test_roles_are_enforced_on_every_builder_route(
    app, owner, signed_in, method, path, data, least_role, role
):
    client = signed_in(role)
    actions = AuthActions(client)
    path = route_path(app, path)
    response = client.get(path) if method == "GET" else actions.post(path, data)
    if role.includes(least_role):
        assert response.status_code in {200, 303}
    else:
        assert response.status_code == 403


@pytest.mark.parametrize(("method", "path", "data", "_role"), ROUTES)
def test_anonymous_users_are_sent_to_login(app, client, owner, method, path, data, _role):
    path = route_path(app, path)
    actions = AuthActions(client)
    response = client.get(path) if method == "GET" else actions.post(path, data)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_anonymous_json_clients_get_401(app, client, owner):
    response = client.get(f"/forms/{new_form(app)}", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_json_posts_need_the_csrf_header(app, signed_in):
    client = signed_in()
    form_id = new_form(app)
    response = client.post(
        f"/forms/{form_id}/fields", json={"type": "email"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert keys_of(app, form_id) == ["name", "email", "message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/forms/999"),
        ("POST", "/forms/999/details"),
        ("POST", "/forms/999/publish"),
        ("GET", "/forms/999/settings"),
        ("POST", "/forms/999/duplicate"),
        ("POST", "/forms/999/trash"),
        ("POST", "/forms/999/restore"),
        ("POST", "/forms/999/fields"),
        ("GET", "/forms/999/fields/name"),
        ("POST", "/forms/999/order"),
        ("GET", "/forms/{id}/fields/nope"),
        ("POST", "/forms/{id}/fields/nope"),
        ("POST", "/forms/{id}/fields/nope/duplicate"),
        ("POST", "/forms/{id}/fields/nope/delete"),
        ("POST", "/forms/{id}/fields/nope/move"),
        ("POST", "/forms/{id}/restore"),  # not in the trash
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_unknown_forms_and_fields_are_404(app, signed_in, method, path, as_json):
    client = signed_in()
    actions = AuthActions(client)
    path = path.format(id=new_form(app))
    headers = {"Accept": "application/json"} if as_json else {}
    if method == "GET":
        response = client.get(path, headers=headers)
    else:
        headers["X-CSRFToken"] = actions.csrf_token()
        response = client.post(path, data={"direction": "up"}, headers=headers)
    assert response.status_code == 404
    if as_json:
        assert response.get_json()["error"]["code"] == "not_found"


# --- the list, new forms, the trash ----------------------------------------------------------


def test_the_list_shows_status_counts_and_unpublished_changes(app, signed_in):
    client = signed_in()
    now = datetime.now(UTC)
    draft = new_form(app, "contact", title="Draft one")
    full = new_form(app, "contact", title="Full one", max_responses=3, submission_count=3)
    expired = new_form(app, "feedback", title="Expired one", closes_at=now - timedelta(days=1))
    for form_id in (full, expired):
        publish(app, form_id)
    with app.app_context():
        form = db.session.get(Form, full)
        form.last_submission_at = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
        db.session.commit()

    page = page_text(client.get("/forms"))

    cards = {card_title(card): card for card in page.split('<li class="form-card">')[1:]}
    assert 'badge-draft">Draft<' in cards["Draft one"]
    assert "Unpublished changes" in cards["Draft one"]
    assert 'badge-warning">Full<' in cards["Full one"]
    assert "3 responses" in cards["Full one"]
    assert "Last response 2030-01-02 03:04" in cards["Full one"]
    assert "Unpublished changes" not in cards["Full one"]
    assert "Past its closing time" in cards["Expired one"]
    assert f'href="/f/{fetch_form(app, full).slug}"' in page
    assert f'href="/f/{fetch_form(app, draft).slug}"' not in page  # nothing to see there yet
    assert f'action="/forms/{draft}/duplicate"' in page


def card_title(card: str) -> str:
    return re.search(r"<h2>\s*(?:<a [^>]*>)?([^<]+)", card).group(1).strip()


def test_viewers_see_the_list_without_editing_actions(app, owner, signed_in):
    form_id = new_form(app)
    client = signed_in(Role.VIEWER)
    page = page_text(client.get("/forms"))
    assert "Contact us" in page
    assert "New form" not in page
    assert f'href="/forms/{form_id}"' not in page


@pytest.mark.parametrize("template", list(TEMPLATES))
@pytest.mark.parametrize("title", ["", "Our own title"])
def test_a_new_form_starts_blank_or_from_each_template(app, signed_in, template, title):
    actions = AuthActions(signed_in())
    response = actions.post("/forms/new", {"template": template, "title": title})

    assert response.status_code == 303
    form_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert response.headers["Location"] == f"/forms/{form_id}"
    form = fetch_form(app, form_id)
    assert form.title == (title or TEMPLATES[template]["title"])
    assert keys_of(app, form_id) == [item["key"] for item in TEMPLATES[template]["fields"]]
    assert form.status == FormStatus.DRAFT


def test_a_static_site_endpoint_is_created_from_the_forms_list_and_takes_posts(
    app, signed_in, client
):
    editor = signed_in()
    assert "an endpoint your own website" in editor.get("/forms/new").get_data(as_text=True)
    response = AuthActions(editor).post(
        "/forms/new", {"template": "endpoint", "title": "Blog contact"}
    )
    assert response.status_code == 303
    form_id = int(response.headers["Location"].split("/")[2])
    assert response.headers["Location"] == f"/forms/{form_id}/share"
    form = fetch_form(app, form_id)
    assert (form.title, form.kind.value, form.status) == (
        "Blog contact",
        "endpoint",
        FormStatus.OPEN,
    )
    share = editor.get(response.headers["Location"]).get_data(as_text=True)
    assert f'action="http://127.0.0.1:5000/f/{form.slug}"' in html.unescape(share)
    posted = app.test_client().post(
        f"/f/{form.slug}",
        data={"email": "ann@example.com"},
        headers={"Origin": "https://blog.example"},
    )
    assert posted.status_code == 303


def test_a_new_form_by_json(app, signed_in):
    client = signed_in()
    actions = AuthActions(client)
    response = json_post(client, actions, "/forms/new", json={"template": "event"})
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == body["form"]["urls"]["builder"]
    assert body["form"]["title"] == "Event registration"
    assert body["form"]["has_unpublished_changes"] is True


@pytest.mark.parametrize("as_json", [False, True])
def test_an_unknown_template_is_refused(app, signed_in, as_json):
    client = signed_in()
    actions = AuthActions(client)
    if as_json:
        response = json_post(client, actions, "/forms/new", json={"template": "survey"})
        assert response.status_code == 422
        assert "Unknown template" in response.get_json()["error"]["details"]["template"][0]
    else:
        response = actions.post("/forms/new", {"template": "survey"})
        assert response.status_code == 422
        assert "Unknown template 'survey'" in page_text(response)
    with app.app_context():
        assert db.session.query(Form).count() == 0


def test_duplicate_a_form(app, signed_in):
    actions = AuthActions(signed_in())
    original = new_form(app, "event", max_responses=50)
    publish(app, original)

    response = actions.post(f"/forms/{original}/duplicate")

    assert response.status_code == 303
    copy_id = int(response.headers["Location"].rsplit("/", 1)[1])
    copy = fetch_form(app, copy_id)
    assert copy_id != original
    assert copy.title == "Event registration (copy)"
    assert copy.draft_fields == fetch_form(app, original).draft_fields
    assert copy.max_responses == 50
    assert copy.published_version_id is None


def test_trash_and_restore(app, signed_in):
    client = signed_in()
    actions = AuthActions(client)
    form_id = new_form(app, "contact")

    response = actions.post(f"/forms/{form_id}/trash")
    assert response.status_code == 303
    assert response.headers["Location"] == "/forms"
    assert fetch_form(app, form_id).deleted_at is not None
    assert f'action="/forms/{form_id}/trash"' not in page_text(client.get("/forms"))
    assert client.get(f"/forms/{form_id}").status_code == 404
    trash = page_text(client.get("/forms/trash"))
    assert "Contact us" in trash
    purge_day = (fetch_form(app, form_id).deleted_at + timedelta(days=30)).strftime("%Y-%m-%d")
    assert f"Deleted for good after {purge_day}" in trash

    response = actions.post(f"/forms/{form_id}/restore")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/forms/{form_id}"
    assert fetch_form(app, form_id).deleted_at is None
    assert client.get(f"/forms/{form_id}").status_code == 200


# --- the builder page: details, preview, publishing --------------------------------------------


def test_the_builder_shows_fields_palette_and_a_preview_like_the_public_page(app, signed_in):
    client = signed_in()
    form_id = new_form(app, "job_application")
    page = page_text(client.get(f"/forms/{form_id}"))

    for item in TEMPLATES["job_application"]["fields"]:
        assert f'id="field-{item["key"]}"' in page
    for field_type in FIELD_TYPES.values():
        assert f">{field_type.title}</button>" in page
    # The preview is the public page's own form, prefixed so its ids cannot clash, and inert.
    assert "data-respondent-form" in page and "data-preview inert" in page
    assert 'id="preview-name"' in page
    assert 'enctype="multipart/form-data"' in page
    assert "Apply for a position with us." in page
    assert "Unpublished changes" in page


def test_details_are_saved(app, signed_in):
    client = signed_in()
    actions = AuthActions(client)
    form_id = new_form(app)
    response = actions.post(
        f"/forms/{form_id}/details",
        {"title": "Write to us", "description": "We **answer**.", "slug": "write-to-us"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/forms/{form_id}"
    form = fetch_form(app, form_id)
    assert (form.title, form.description, form.slug) == (
        "Write to us",
        "We **answer**.",
        "write-to-us",
    )
    assert "<strong>answer</strong>" in page_text(client.get(f"/forms/{form_id}"))


@pytest.mark.parametrize(
    ("data", "input_name", "message"),
    [
        ({"title": "", "slug": "ok-slug"}, "title", "Give the form a title"),
        ({"title": "T", "slug": "Not a slug"}, "slug", "Use 2 to 80 lowercase letters"),
        ({"title": "T", "slug": "taken"}, "slug", "Another form already uses this address."),
        ({"title": "T", "slug": "trash"}, "slug", "Use 2 to 80 lowercase letters"),
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_bad_details_are_refused_next_to_their_input(
    app, signed_in, data, input_name, message, as_json
):
    client = signed_in()
    actions = AuthActions(client)
    new_form(app, "blank", slug="taken")
    form_id = new_form(app)
    if as_json:
        response = json_post(client, actions, f"/forms/{form_id}/details", json=data)
        assert response.status_code == 422
        assert message in response.get_json()["error"]["details"][input_name][0]
    else:
        response = actions.post(f"/forms/{form_id}/details", data)
        assert response.status_code == 422
        assert message in field_error(response, input_name)
    assert fetch_form(app, form_id).title == "Contact us"


def test_publishing_freezes_a_version_that_later_edits_do_not_change(app, signed_in):
    client = signed_in()
    actions = AuthActions(client)
    form_id = new_form(app, "contact")

    response = actions.post(f"/forms/{form_id}/publish")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/forms/{form_id}"
    form = fetch_form(app, form_id)
    assert form.status == FormStatus.OPEN
    assert not form.has_unpublished_changes
    version = form.published_version
    assert version.number == 1
    assert [item["key"] for item in version.schema["fields"]] == ["name", "email", "message"]

    actions.post(f"/forms/{form_id}/fields/name", {"label": "Your full name", "key": "name"})
    actions.post(f"/forms/{form_id}/fields/message/delete")
    actions.post(f"/forms/{form_id}/fields", {"type": "phone"})

    form = fetch_form(app, form_id)
    assert form.has_unpublished_changes
    assert form.published_version.id == version.id
    assert form.published_version.schema == version.schema
    assert version.schema["fields"][0]["label"] == "Name"
    assert "People still see version 1" in page_text(client.get(f"/forms/{form_id}"))

    response = json_post(client, actions, f"/forms/{form_id}/publish")
    assert response.status_code == 200
    assert response.get_json()["message"] == "Published version 2. It is live now."
    assert response.get_json()["form"]["has_unpublished_changes"] is False
    assert fetch_form(app, form_id).published_version.number == 2
    with app.app_context():
        versions = forms.list_versions(db.session.get(Form, form_id))
        old = next(version for version in versions if version.number == 1)
        assert [item["key"] for item in old.schema["fields"]] == ["name", "email", "message"]


@pytest.mark.parametrize("as_json", [False, True])
def test_a_form_without_questions_cannot_be_published(app, signed_in, as_json):
    client = signed_in()
    actions = AuthActions(client)
    form_id = new_form(app, "blank")
    message = "Add at least one question before publishing."
    if as_json:
        response = json_post(client, actions, f"/forms/{form_id}/publish")
        assert response.status_code == 422
        assert response.get_json()["error"] == {
            "code": "invalid",
            "message": message,
            "details": {"fields": [message]},
        }
    else:
        response = actions.post(f"/forms/{form_id}/publish")
        assert response.status_code == 422
        assert message in page_text(response)
    assert fetch_form(app, form_id).published_version_id is None


# --- fields ----------------------------------------------------------------------------------


@pytest.mark.parametrize("type_name", list(FIELD_TYPES))
def test_every_type_can_be_added_edited_and_previewed(app, signed_in, type_name):
    client = signed_in()
    actions = AuthActions(client)
    form_id = new_form(app, "blank")

    response = actions.post(f"/forms/{form_id}/fields", {"type": type_name})

    assert response.status_code == 303
    (item,) = fetch_form(app, form_id).draft_fields
    assert item["type"] == type_name
    assert item["label"] == FIELD_TYPES[type_name].title
    assert response.headers["Location"] == f"/forms/{form_id}/fields/{item['key']}"
    editor = client.get(response.headers["Location"])
    assert editor.status_code == 200
    for rule in FIELD_TYPES[type_name].rule_inputs:
        assert f'name="rule_{rule.name}"' in editor.get_data(as_text=True)
    assert client.get(f"/forms/{form_id}").status_code == 200


def test_add_a_field_by_json(app, signed_in):
    client = signed_in()
    actions = AuthActions(client)
    form_id = new_form(app, "contact")

    response = json_post(
        client, actions, f"/forms/{form_id}/fields", {"type": "rating", "label": "Stars"}
    )

    assert response.status_code == 201
    body = response.get_json()
    assert body["field"]["key"] == "stars"
    assert body["field"]["rules"] == {"scale": "stars"}
    assert response.headers["Location"] == f"/forms/{form_id}/fields/stars"
    assert body["message"] == 'Added "Stars" at the end.'
    assert body["form"]["has_unpublished_changes"] is True
    assert 'data-key="stars"' in body["html"]["fields"]
    assert "Stars" in body["html"]["preview"]
    assert "Unpublished changes" in body["html"]["status"]
    assert keys_of(app, form_id) == ["name", "email", "message", "stars"]


@pytest.mark.parametrize("as_json", [False, True])
def test_an_unknown_field_type_is_refused(app, signed_in, as_json):
    client = signed_in()
    actions = AuthActions(client)
    form_id = new_form(app, "contact")
    message = "Choose a field type from the list."
    if as_json:
        response = json_post(client, actions, f"/forms/{form_id}/fields", {"type": "signature"})
        assert response.status_code == 422
        assert response.get_json()["error"]["details"] == {"type": [message]}
    else:
        response = actions.post(f"/forms/{form_id}/fields", {"type": "signature"})
        assert response.status_code == 422
        assert message in page_text(response)
    assert keys_of(app, form_id) == ["name", "email", "message"]


def test_edit_a_field_with_its_rules(app, signed_in):
    actions = AuthActions(signed_in())
    form_id = new_form(app, "contact")
    response = actions.post(
        f"/forms/{form_id}/fields/name",
        {
            "label": "Your name",
            "key": "full_name",
            "help": "As on your passport.",
            "placeholder": "Ada Lovelace",
            "required": "y",
            "default": "",
            "rule_min_length": "2",
            "rule_max_length": "80",
            "rule_pattern": "",
            "rule_pattern_message": "",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/forms/{form_id}#field-full_name"
    item = fetch_form(app, form_id).draft_fields[0]
    assert item["key"] == "full_name"
    assert (item["label"], item["help"], item["placeholder"]) == (
        "Your name",
        "As on your passport.",
        "Ada Lovelace",
    )
    assert item["required"] is True
    assert item["rules"] == {
        "min_length": 2,
        "max_length": 80,
        "pattern": "",
        "pattern_message": "",
    }


def test_a_new_questions_key_follows_the_label_typed_in_the_editor(app, signed_in):
    actions = AuthActions(signed_in())
    form_id = new_form(app, "blank")
    added = actions.post(f"/forms/{form_id}/fields", {"type": "number"})
    assert added.status_code == 303
    [item] = fetch_form(app, form_id).draft_fields
    key = item["key"]
    response = actions.post(
        f"/forms/{form_id}/fields/{key}",
        {"label": "How many people?", "key": key, "help": "", "placeholder": "", "default": ""},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"] == f"/forms/{form_id}#field-how_many_people"
    assert [item["key"] for item in fetch_form(app, form_id).draft_fields] == ["how_many_people"]


def test_edit_choices_one_per_line_and_file_kinds(app, signed_in):
    actions = AuthActions(signed_in())
    form_id = new_form(app, "job_application")
    response = actions.post(
        f"/forms/{form_id}/fields/position",
        {"label": "Position", "key": "position", "rule_choices": "eng|Engineer\nDesigner\n\n"},
    )
    assert response.status_code == 303
    response = actions.post(
        f"/forms/{form_id}/fields/cv",
        {"label": "CV", "key": "cv", "rule_accept": ["pdf", "text"], "rule_max_size_mb": "2.5"},
    )
    assert response.status_code == 303
    fields = {item["key"]: item for item in fetch_form(app, form_id).draft_fields}
    assert fields["position"]["rules"]["choices"] == [
        {"value": "eng", "label": "Engineer"},
        {"value": "Designer", "label": "Designer"},
    ]
    assert fields["cv"]["rules"] == {"accept": ["pdf", "text"], "max_size_mb": 2.5}


def test_edit_a_field_by_json(app, signed_in):
    client = signed_in()
    actions = AuthActions(client)
    form_id = new_form(app, "event")
    response = json_post(
        client,
        actions,
        f"/forms/{form_id}/fields/guests",
        json={
            "label": "Guests",
            "key": "guests",
            "rule_kind": "integer",
            "rule_max": 3,
            "rule_min": None,
        },
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["field"]["rules"] == {"kind": "integer", "min": None, "max": 3, "step": None}
    assert body["message"] == 'Saved "Guests".'
    assert 'max="3"' in body["html"]["preview"]


def test_the_editor_fragment_by_json(app, signed_in):
    client = signed_in()
    form_id = new_form(app, "event")
    response = client.get(
        f"/forms/{form_id}/fields/session", headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["field"]["key"] == "session"
    assert f'action="/forms/{form_id}/fields/session"' in body["html"]
    assert "morning|Morning\nafternoon|Afternoon" in html.unescape(body["html"])


# (type, inputs posted, registry path, input showing it, message)
FIELD_ERRORS = [
    (
        "short_text",
        {"rule_max_length": "0"},
        "rules.max_length",
        "rule_max_length",
        "max_length must be a whole number from 1 to 5000",
    ),
    (
        "short_text",
        {"rule_max_length": "many"},
        "rules.max_length",
        "rule_max_length",
        "max_length must be a whole number",
    ),
    (
        "short_text",
        {"rule_min_length": "9", "rule_max_length": "5"},
        "rules.min_length",
        "rule_min_length",
        "min_length must not be greater than max_length",
    ),
    (
        "long_text",
        {"rule_pattern": "("},
        "rules.pattern",
        "rule_pattern",
        "pattern is not a valid regular expression",
    ),
    ("email", {"key": "Bad Key"}, "key", "key", "the key must start with a lowercase letter"),
    ("email", {"key": "data"}, "key", "key", 'the key "data" is reserved'),
    ("phone", {"label": "   "}, "label", "label", "the label must be text of 1 to 500 characters"),
    (
        "single_choice",
        {"rule_choices": ""},
        "rules.choices",
        "rule_choices",
        "choices must be a list of 1 to 500 options",
    ),
    (
        "dropdown",
        {"rule_choices": "a\na"},
        "rules.choices[1].value",
        "rule_choices",
        'the option "a" is listed twice',
    ),
    (
        "multiple_choice",
        {"rule_max_picks": "5"},
        "rules.max_picks",
        "rule_max_picks",
        "max_picks must be a whole number from 1 to 2",
    ),
    (
        "number",
        {"rule_min": "10", "rule_max": "1"},
        "rules.min",
        "rule_min",
        "min must not be greater than max",
    ),
    (
        "number",
        {"rule_kind": "integer", "rule_step": "0.5"},
        "rules.step",
        "rule_step",
        "step must be a whole number",
    ),
    ("number", {"default": "lots"}, "default", "default", "the default answer is not valid"),
    (
        "date",
        {"rule_min": "2024-13-01"},
        "rules.min",
        "rule_min",
        "min must be a date written YYYY-MM-DD",
    ),
    (
        "rating",
        {"rule_scale": "hearts"},
        "rules.scale",
        "rule_scale",
        "scale must be one of: stars, nps",
    ),
    (
        "consent",
        {"rule_style": "slider"},
        "rules.style",
        "rule_style",
        "style must be one of: checkbox, yes_no",
    ),
    ("file", {"rule_accept": []}, "rules.accept", "rule_accept", "accept must list kinds of file"),
    (
        "file",
        {"rule_accept": ["pdf"], "rule_max_size_mb": "30"},
        "rules.max_size_mb",
        "rule_max_size_mb",
        "max_size_mb must be more than 0 and at most 25",
    ),
]


@pytest.mark.parametrize(("type_name", "posted", "path", "input_name", "message"), FIELD_ERRORS)
def test_field_errors_are_shown_next_to_their_input(
    app, signed_in, type_name, posted, path, input_name, message
):
    actions = AuthActions(signed_in())
    form_id, key = form_with_field(app, type_name)
    before = fetch_form(app, form_id).draft_fields

    response = actions.post(f"/forms/{form_id}/fields/{key}", {"label": "Q", "key": key, **posted})

    assert response.status_code == 422
    assert message in field_error(response, input_name)
    assert fetch_form(app, form_id).draft_fields == before


@pytest.mark.parametrize(("type_name", "posted", "path", "input_name", "message"), FIELD_ERRORS)
def test_field_errors_by_json_name_the_setting(
    app, signed_in, type_name, posted, path, input_name, message
):
    client = signed_in()
    actions = AuthActions(client)
    form_id, key = form_with_field(app, type_name)
    body = {"label": "Q", "key": key, **posted}

    response = json_post(client, actions, f"/forms/{form_id}/fields/{key}", json=body)

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert list(error["details"]) == [f"fields[0].{path}"]
    assert message in error["details"][f"fields[0].{path}"][0]
    assert error["message"] == error["details"][f"fields[0].{path}"][0]


@pytest.mark.parametrize("as_json", [False, True])
def test_a_published_key_is_locked(app, signed_in, as_json):
    client = signed_in()
    actions = AuthActions(client)
    form_id = new_form(app, "contact")
    publish(app, form_id)
    data = {"label": "Email", "key": "mail"}
    message = "This field has been published, so its key stays"

    if as_json:
        response = json_post(client, actions, f"/forms/{form_id}/fields/email", json=data)
        assert response.status_code == 422
        assert message in response.get_json()["error"]["details"]["fields[1].key"][0]
    else:
        response = actions.post(f"/forms/{form_id}/fields/email", data)
        assert response.status_code == 422
        assert message in field_error(response, "key")
    assert keys_of(app, form_id) == ["name", "email", "message"]
    page = client.get(f"/forms/{form_id}/fields/email").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="key"[^>]*readonly', page)


@pytest.mark.parametrize("as_json", [False, True])
def test_duplicate_a_field(app, signed_in, as_json):
    client = signed_in()
    actions = AuthActions(client)
    form_id = new_form(app, "contact")
    path = f"/forms/{form_id}/fields/email/duplicate"
    response = json_post(client, actions, path) if as_json else actions.post(path)

    assert keys_of(app, form_id) == ["name", "email", "email_2", "message"]
    if as_json:
        assert response.status_code == 201
        assert response.get_json()["field"]["label"] == "Email (copy)"
    else:
        assert response.status_code == 303
        assert response.headers["Location"] == f"/forms/{form_id}#field-email_2"


@pytest.mark.parametrize("as_json", [False, True])
def test_delete_a_field(app, signed_in, as_json):
    client = signed_in()
    actions = AuthActions(client)
    form_id = new_form(app, "contact")
    path = f"/forms/{form_id}/fields/email/delete"
    response = json_post(client, actions, path) if as_json else actions.post(path)

    assert keys_of(app, form_id) == ["name", "message"]
    if as_json:
        assert response.status_code == 200
        assert 'data-key="email"' not in response.get_json()["html"]["fields"]
    else:
        assert response.status_code == 303
        assert response.headers["Location"] == f"/forms/{form_id}"


@pytest.mark.parametrize(
    ("key", "direction", "order", "message"),
    [
        ("email", "up", ["email", "name", "message"], 'Moved "Email" to position 1 of 3.'),
        ("email", "down", ["name", "message", "email"], 'Moved "Email" to position 3 of 3.'),
        ("name", "up", ["name", "email", "message"], '"Name" is already at position 1 of 3.'),
        (
            "message",
            "down",
            ["name", "email", "message"],
            '"Message" is already at position 3 of 3.',
        ),
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_move_a_field_up_or_down(app, signed_in, key, direction, order, message, as_json):
    client = signed_in()
    actions = AuthActions(client)
    form_id = new_form(app, "contact")
    path = f"/forms/{form_id}/fields/{key}/move"
    if as_json:
        response = json_post(client, actions, path, json={"direction": direction})
        assert response.status_code == 200
        assert response.get_json()["message"] == message
    else:
        response = actions.post(path, {"direction": direction})
        assert response.status_code == 303
        assert response.headers["Location"] == f"/forms/{form_id}#field-{key}"
        assert message in page_text(client.get(response.headers["Location"]))
    assert keys_of(app, form_id) == order


def test_a_move_needs_a_direction(app, signed_in):
    client = signed_in()
    actions = AuthActions(client)
    form_id = new_form(app, "contact")
    response = json_post(
        client, actions, f"/forms/{form_id}/fields/email/move", json={"direction": "left"}
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {"direction": ["Say up or down."]}


@pytest.mark.parametrize("as_json", [False, True])
def test_reorder_fields(app, signed_in, as_json):
    client = signed_in()
    actions = AuthActions(client)
    form_id = new_form(app, "contact")
    order = ["message", "name", "email"]
    path = f"/forms/{form_id}/order"
    if as_json:
        response = json_post(client, actions, path, json={"order": order})
        assert response.status_code == 200
        list_html = response.get_json()["html"]["fields"]
        assert list_html.index('data-key="message"') < list_html.index('data-key="name"')
    else:
        response = actions.post(path, {"order": order})
        assert response.status_code == 303
    assert keys_of(app, form_id) == order


@pytest.mark.parametrize("order", [["name", "email"], ["name", "email", "message", "extra"], []])
@pytest.mark.parametrize("as_json", [False, True])
def test_a_reorder_must_name_every_field_once(app, signed_in, order, as_json):
    client = signed_in()
    actions = AuthActions(client)
    form_id = new_form(app, "contact")
    message = "The new order must list every field exactly once."
    if as_json:
        response = json_post(client, actions, f"/forms/{form_id}/order", json={"order": order})
        assert response.status_code == 422
        assert response.get_json()["error"]["details"] == {"order": [message]}
    else:
        response = actions.post(f"/forms/{form_id}/order", {"order": order})
        assert response.status_code == 422
        assert message in page_text(response)
    assert keys_of(app, form_id) == ["name", "email", "message"]


# --- settings ---------------------------------------------------------------------------------

GOOD_SETTINGS = {
    "status": "open",
    "closes_at": "",
    "max_responses": "",
    "confirmation_message": "",
    "redirect_url": "",
    "submit_label": "Send",
    "allowed_origins": "",
}


def test_settings_are_saved_with_the_closing_time_in_the_users_zone(app, signed_in):
    client = signed_in()
    actions = AuthActions(client)
    with app.app_context():
        db.session.query(User).update({"timezone": "Europe/Paris"})
        db.session.commit()
    form_id = new_form(app, "contact")

    response = actions.post(
        f"/forms/{form_id}/settings",
        {
            **GOOD_SETTINGS,
            "status": "closed",
            "closes_at": "2030-07-01T09:30",
            "max_responses": "100",
            "confirmation_message": "Thanks, **really**.",
            "redirect_url": "https://example.org/thanks",
            "submit_label": "Register",
            "one_response_per_browser": "y",
            "allowed_origins": "https://www.Example.org/\n\nhttp://localhost:8000",
        },
    )

    assert response.status_code == 303
    assert response.headers["Location"] == f"/forms/{form_id}/settings"
    form = fetch_form(app, form_id)
    assert form.closes_at == datetime(2030, 7, 1, 7, 30, tzinfo=UTC)  # Paris is UTC+2 in July
    assert form.status == FormStatus.CLOSED
    assert form.max_responses == 100
    assert form.confirmation_message == "Thanks, **really**."
    assert form.redirect_url == "https://example.org/thanks"
    assert form.submit_label == "Register"
    assert form.one_response_per_browser is True
    assert form.allowed_origins == ["https://www.example.org", "http://localhost:8000"]
    page = client.get(f"/forms/{form_id}/settings").get_data(as_text=True)
    assert 'value="2030-07-01T09:30"' in page
    assert "Europe/Paris" in page


def test_share_shows_the_embed_and_static_site_snippets(app, signed_in):
    client = signed_in()
    form_id = new_form(app, "contact")
    base = app.config["BASE_URL"]
    page = page_text(client.get(f"/forms/{form_id}/share"))
    assert (
        f'<iframe src="{base}/f/contact-us/embed" title="Contact us" class="formyard-embed" '
        'style="width:100%;border:0"'
    ) in page
    assert f'<script src="{base}/static/js/embed.js" async></script>' in page
    assert f'<form action="{base}/f/contact-us" method="POST">' in page
    assert '<textarea name="message"></textarea>' in page


@pytest.mark.parametrize(
    ("changes", "input_name", "message"),
    [
        (
            {"allowed_origins": "https://ok.example\nexample.org/path"},
            "allowed_origins",
            "is not a website origin",
        ),
        (
            {"redirect_url": "javascript:alert(1)"},
            "redirect_url",
            "Give a full web address starting with https://",
        ),
        ({"redirect_url": "/thanks"}, "redirect_url", "Give a full web address"),
        ({"max_responses": "0"}, "max_responses", "Use a number from 1 to 10,000,000."),
        ({"max_responses": "many"}, "max_responses", "Not a valid integer value."),
        ({"status": "paused"}, "status", "Choose draft, open or closed."),
        ({"closes_at": "tomorrow"}, "closes_at", "Not a valid datetime value."),
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_bad_settings_are_refused_next_to_their_input(
    app, signed_in, changes, input_name, message, as_json
):
    client = signed_in()
    actions = AuthActions(client)
    form_id = new_form(app, "contact")
    data = {**GOOD_SETTINGS, **changes}
    if as_json:
        response = json_post(client, actions, f"/forms/{form_id}/settings", json=data)
        assert response.status_code == 422
        assert message in response.get_json()["error"]["details"][input_name][0]
    else:
        response = actions.post(f"/forms/{form_id}/settings", data)
        assert response.status_code == 422
        assert message in field_error(response, input_name)
    form = fetch_form(app, form_id)
    assert (form.status, form.submit_label, form.allowed_origins) == (
        FormStatus.DRAFT,
        "Submit",
        [],
    )


def test_the_settings_page_has_an_input_for_every_setting(app, signed_in):
    client = signed_in()
    endpoint_id = make_form(app, title="Site", slug="site", kind="endpoint").id
    page = client.get(f"/forms/{endpoint_id}/settings").get_data(as_text=True)
    for setting in SETTINGS:
        assert f'name="{setting.name}"' in page
    # A built form's file questions say for themselves what files they take.
    built_page = client.get(f"/forms/{new_form(app, 'contact')}/settings").get_data(as_text=True)
    for setting in SETTINGS:
        shown = f'name="{setting.name}"' in built_page
        assert shown is (setting.name not in ENDPOINT_ONLY_SETTINGS), setting.name


def test_settings_by_json(app, signed_in):
    client = signed_in()
    actions = AuthActions(client)
    form_id = new_form(app, "contact")
    response = json_post(
        client, actions, f"/forms/{form_id}/settings", json={**GOOD_SETTINGS, "max_responses": 5}
    )
    assert response.status_code == 200
    assert response.get_json()["message"] == "Saved the settings."
    assert fetch_form(app, form_id).max_responses == 5


# --- the editor and the registry, without HTTP ---------------------------------------------------


@pytest.fixture(scope="module")
def bare_app():
    return create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def _every_kind_of_field() -> list[dict]:
    starters = [
        {"key": "q", "type": name, "label": "Q", "rules": forms.starter_rules(name)}
        for name in FIELD_TYPES
    ]
    from_templates = [item for template in TEMPLATES.values() for item in template["fields"]]
    with_defaults = [
        {
            "key": "n",
            "type": "number",
            "label": "N",
            "default": 2.5,
            "rules": {"kind": "decimal", "step": 0.5},
        },
        {
            "key": "m",
            "type": "multiple_choice",
            "label": "M",
            "default": ["a", "b"],
            "rules": {"choices": ["a", "b", "c"], "max_picks": 2},
        },
        {
            "key": "t",
            "type": "short_text",
            "label": "T",
            "rules": {"pattern": "[A-Z]{2} ", "pattern_message": "Two capitals"},
        },
        {"key": "d", "type": "date", "label": "D", "rules": {"min": "2024-01-01"}},
    ]
    return starters + from_templates + with_defaults


@pytest.mark.parametrize(
    "item", _every_kind_of_field(), ids=lambda item: f"{item['type']}-{item['key']}"
)
def test_the_editor_gives_back_the_settings_it_shows(bare_app, item):
    (spec,) = parse_field_specs([item])
    field_type = get_field_type(spec.type)
    with bare_app.test_request_context():
        editor = field_editor_class(field_type)(
            formdata=None, data=editor_data(spec, field_type), meta={"csrf": False}
        )
        changes = field_changes(editor, field_type)
    (again,) = parse_field_specs([{**spec.to_dict(), **changes}])
    assert again == spec


def test_the_settings_form_asks_for_every_declared_setting(bare_app):
    with bare_app.test_request_context():
        wtform = SettingsForm(formdata=None, meta={"csrf": False})
    assert [field.name for field in wtform] == [setting.name for setting in SETTINGS]


def test_the_settings_form_gives_back_the_settings_it_shows(bare_app):
    settings = every_setting()
    form = Form(**{**settings, "status": FormStatus(settings["status"])})
    with bare_app.test_request_context():
        wtform = SettingsForm(formdata=None, data=settings_data(form), meta={"csrf": False})
        assert wtform.settings({}) == settings


def test_every_rule_input_names_a_rule_its_type_takes():
    for field_type in FIELD_TYPES.values():
        rules = forms.starter_rules(field_type.name)
        (spec,) = parse_field_specs(
            [{"key": "q", "type": field_type.name, "label": "Q", "rules": rules}]
        )
        assert {rule.name for rule in field_type.rule_inputs} <= set(spec.rules)


@pytest.mark.parametrize(
    ("path", "input_name"),
    [
        ("fields[3].rules.max_length", "rule_max_length"),
        ("fields[0].rules.choices[2].value", "rule_choices"),
        ("fields[12].key", "key"),
        ("fields[1].default", "default"),
        ("fields[2]", "fields"),
        ("fields", "fields"),
        ("slug", "slug"),
        (None, None),
    ],
)
def test_error_paths_point_at_their_input(path, input_name):
    assert input_name_for(path) == input_name


PUBLISH_FORM = re.compile(r'<form method="post" action="/forms/\d+/publish"')
DISABLED_PUBLISH = '<button type="button" class="small-button secondary" disabled'


def test_publish_is_disabled_when_there_is_nothing_new(app, signed_in):
    client = signed_in()
    actions = AuthActions(client)
    form_id = new_form(app, "contact")
    draft = client.get(f"/forms/{form_id}").get_data(as_text=True)
    assert PUBLISH_FORM.search(draft) and DISABLED_PUBLISH not in draft

    publish(app, form_id)
    live = client.get(f"/forms/{form_id}").get_data(as_text=True)
    assert not PUBLISH_FORM.search(live)
    assert f'{DISABLED_PUBLISH} aria-describedby="nothing-to-publish">Publish</button>' in live
    assert "Nothing new to publish." in live

    actions.post(f"/forms/{form_id}/fields/name", {"label": "Your full name", "key": "name"})
    changed = client.get(f"/forms/{form_id}").get_data(as_text=True)
    assert PUBLISH_FORM.search(changed) and DISABLED_PUBLISH not in changed


def test_the_preview_pane_is_reachable_by_keyboard(app, signed_in):
    form_id = new_form(app, "contact")
    html = signed_in().get(f"/forms/{form_id}").get_data(as_text=True)
    assert '<a class="skip-link" href="#preview">Skip to the preview</a>' in html
    assert (
        '<section class="builder-preview" id="preview" aria-labelledby="preview-heading" '
        'tabindex="0">'
    ) in html
    assert '<h2 id="preview-heading">Preview</h2>' in html


def test_every_page_links_the_favicon_which_is_served(app, client, signed_in):
    icon = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
    form_id = new_form(app, "contact")
    publish(app, form_id)
    slug = fetch_form(app, form_id).slug
    assert icon in client.get(f"/f/{slug}").get_data(as_text=True)
    assert icon in signed_in().get(f"/forms/{form_id}").get_data(as_text=True)
    served = client.get("/static/favicon.svg")
    assert served.status_code == 200 and served.mimetype == "image/svg+xml"
    assert b"<svg" in served.data and b"http://" not in served.data.replace(
        b"http://www.w3.org", b""
    )
