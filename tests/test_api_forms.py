"""Forms through the API: list, create, read, change, publish and trash, and the error answers
every operation shares (malformed JSON, too large, unknown ids, field details)."""

from __future__ import annotations

import pytest

from app.api.schemas import SettingsInputSchema
from app.api.schemas import SettingsSchema
from app.extensions import db
from app.models import Form
from app.models import FormStatus
from app.models import Role
from app.services.forms.settings import SETTINGS
from tests.api_helpers import CONTACT_FIELDS
from tests.api_helpers import ApiClient
from tests.api_helpers import error_of
from tests.api_helpers import make_token
from tests.form_helpers import every_setting
from tests.form_helpers import make_form


@pytest.fixture
def api(app, client, owner) -> ApiClient:
    return ApiClient(client, make_token(app, "ed@example.com", Role.EDITOR))


def stored_form(app, form_id: int) -> Form:
    with app.app_context():
        form = db.session.get(Form, form_id)
        db.session.expunge(form)
        return form


# --- reading ---------------------------------------------------------------------------------


def test_list_shows_forms_not_in_the_trash(app, api):
    contact = make_form(app, CONTACT_FIELDS).id
    trashed = make_form(app, CONTACT_FIELDS, slug="old").id
    assert api.delete(f"/forms/{trashed}").status_code == 204
    response = api.get("/forms")
    assert response.status_code == 200
    [listed] = response.get_json()["data"]
    assert listed["id"] == contact
    assert listed["slug"] == "contact"
    assert listed["status"] == "open"
    assert listed["availability"] == "open"
    assert listed["published_version"] == 1
    assert listed["url"] == "http://127.0.0.1:5000/f/contact"
    assert listed["created_at"].endswith("Z")


def test_read_a_form_gives_draft_and_published_fields_by_key(app, api):
    form_id = make_form(app, CONTACT_FIELDS).id
    api.patch(f"/forms/{form_id}", json={"fields": [*CONTACT_FIELDS[:2], CONTACT_FIELDS[3]]})
    form = api.get(f"/forms/{form_id}").get_json()
    assert [field["key"] for field in form["published"]["fields"]] == [
        "name",
        "email",
        "topic",
        "message",
        "cv",
    ]
    assert [field["key"] for field in form["draft"]["fields"]] == ["name", "email", "message"]
    assert form["has_unpublished_changes"] is True
    assert form["published"]["number"] == 1
    assert form["settings"]["status"] == "open"
    topic = form["published"]["fields"][2]
    assert topic["rules"]["choices"][0] == {"value": "sales", "label": "sales"}


def test_unknown_or_trashed_form_is_404(app, api):
    form_id = make_form(app, CONTACT_FIELDS).id
    api.delete(f"/forms/{form_id}")
    for path in (f"/forms/{form_id}", "/forms/999", "/forms/0", "/forms/99999999999999999999"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "not_found"


# --- creating --------------------------------------------------------------------------------


def test_create_from_a_template(app, api):
    response = api.post("/forms", json={"template": "contact", "slug": "hello"})
    assert response.status_code == 201
    form = response.get_json()
    assert response.headers["Location"] == f"/api/v1/forms/{form['id']}"
    assert form["slug"] == "hello"
    assert form["status"] == "draft"
    assert form["published"] is None
    assert [field["key"] for field in form["draft"]["fields"]][:2] == ["name", "email"]
    assert stored_form(app, form["id"]).created_by_id is not None


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"title": "   "}, "title", "Give the form a title"),
        ({"title": "x" * 201}, "title", "at most 200 characters"),
        ({"title": "Hi", "slug": "No Spaces"}, "slug", "lowercase letters"),
        ({"title": "Hi", "slug": "api"}, "slug", "lowercase letters"),
        ({"template": "nope"}, "template", "Must be one of"),
        ({"title": 5}, "title", "Not a valid string."),
        ({"title": "Hi", "colour": "red"}, "colour", "Unknown field."),
    ],
)
def test_create_refuses_with_field_details(app, api, body, field, message):
    response = api.post("/forms", json=body)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid"
    assert message in error["details"][field][0]
    with app.app_context():
        assert db.session.query(Form).count() == 0


def test_a_taken_slug_is_refused(app, api):
    make_form(app, CONTACT_FIELDS)
    response = api.post("/forms", json={"title": "Again", "slug": "contact"})
    assert response.status_code == 422
    assert error_of(response)["details"] == {"slug": ["Another form already uses this address."]}


# --- changing --------------------------------------------------------------------------------


def test_patch_changes_only_what_is_given(app, api):
    form_id = make_form(app, CONTACT_FIELDS).id
    response = api.patch(
        f"/forms/{form_id}",
        json={
            "title": "Write to us",
            "settings": {"max_responses": 10, "closes_at": "2030-01-01T12:00:00+02:00"},
        },
    )
    assert response.status_code == 200
    form = response.get_json()
    assert form["title"] == "Write to us"
    assert form["slug"] == "contact"
    assert form["settings"]["max_responses"] == 10
    assert form["settings"]["closes_at"] == "2030-01-01T10:00:00.000000Z"
    assert form["settings"]["submit_label"] == "Submit"
    assert form["published"]["title"] == "Contact us"  # live only when published
    stored = stored_form(app, form_id)
    assert stored.title == "Write to us"
    assert stored.max_responses == 10


def test_a_refused_patch_changes_nothing(app, api):
    form_id = make_form(app, CONTACT_FIELDS).id
    response = api.patch(
        f"/forms/{form_id}",
        json={
            "title": "Renamed",
            "fields": CONTACT_FIELDS[:2],
            "settings": {"status": "closed", "redirect_url": "javascript:alert(1)"},
        },
    )
    assert response.status_code == 422
    assert "settings.redirect_url" in error_of(response)["details"]
    stored = stored_form(app, form_id)
    assert stored.title == "Contact us"
    assert stored.status == FormStatus.OPEN
    assert len(stored.draft_fields) == len(CONTACT_FIELDS)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fields": [{"key": "Bad Key", "type": "short_text", "label": "X"}]}, "fields[0].key"),
        ({"fields": [{"key": "a", "type": "nope", "label": "X"}]}, "fields[0].type"),
        ({"fields": "name"}, "fields"),
        ({"settings": {"closes_at": "2030-01-01T12:00:00"}}, "settings.closes_at"),
        ({"settings": {"closes_at": "9999-12-31T23:59:59-23:00"}}, "settings.closes_at"),
        ({"settings": {"max_responses": 0}}, "settings.max_responses"),
        ({"settings": {"status": "archived"}}, "settings.status"),
        ({"settings": {"allowed_origins": ["not an origin"]}}, "settings.allowed_origins"),
    ],
)
def test_patch_refuses_with_the_field_at_fault(app, api, body, field):
    form_id = make_form(app, CONTACT_FIELDS).id
    response = api.patch(f"/forms/{form_id}", json=body)
    assert response.status_code == 422
    assert field in error_of(response)["details"]


@pytest.mark.parametrize("schema", [SettingsSchema, SettingsInputSchema])
def test_the_settings_schemas_name_every_declared_setting(schema):
    assert list(schema().fields) == [setting.name for setting in SETTINGS]


def test_patch_and_read_carry_every_setting(app, api):
    form_id = make_form(app, CONTACT_FIELDS).id
    settings = {**every_setting(), "closes_at": "2031-05-04T14:30:00+02:00"}
    response = api.patch(f"/forms/{form_id}", json={"settings": settings})
    assert response.status_code == 200
    expected = {**settings, "closes_at": "2031-05-04T12:30:00.000000Z"}
    assert response.get_json()["settings"] == expected
    assert api.get(f"/forms/{form_id}").get_json()["settings"] == expected


def test_a_published_key_keeps_its_type(app, api):
    form_id = make_form(app, CONTACT_FIELDS).id
    changed = [*CONTACT_FIELDS[:3], {"key": "message", "type": "short_text", "label": "Msg"}]
    response = api.patch(f"/forms/{form_id}", json={"fields": changed})
    assert response.status_code == 422
    assert error_of(response)["details"] == {
        "fields[3].type": ["A published field cannot change type; add a new field instead."]
    }


def test_publish_freezes_the_draft(app, api):
    form_id = api.post("/forms", json={"template": "contact"}).get_json()["id"]
    response = api.post(f"/forms/{form_id}/publish")
    assert response.status_code == 200
    form = response.get_json()
    assert form["status"] == "open"
    assert form["availability"] == "open"
    assert form["published"]["number"] == 1
    assert form["has_unpublished_changes"] is False
    assert api.post(f"/forms/{form_id}/publish").get_json()["published"]["number"] == 2


def test_publishing_a_form_without_questions_is_refused(app, api):
    form_id = api.post("/forms", json={"title": "Empty"}).get_json()["id"]
    response = api.post(f"/forms/{form_id}/publish")
    assert response.status_code == 422
    assert error_of(response)["details"] == {
        "fields": ["Add at least one question before publishing."]
    }


def test_delete_moves_to_the_trash(app, api):
    form_id = make_form(app, CONTACT_FIELDS).id
    response = api.delete(f"/forms/{form_id}")
    assert response.status_code == 204
    assert response.data == b""
    assert stored_form(app, form_id).deleted_at is not None
    assert api.delete(f"/forms/{form_id}").status_code == 404


# --- malformed requests ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type", "message"),
    [
        ("{bad", "application/json", "not valid JSON"),
        ('{"title": NaN}', "application/json", "not valid JSON"),
        (b"\xff\xfe\x00", "application/json", "not valid JSON"),
        ('{"title": "x"}', "application/json; charset=latin-1", "UTF-8"),
        ('{"title": "x"}', "application/json; charset=no-such", "UTF-8"),
        ("title=x", "application/x-www-form-urlencoded", "Send JSON"),
        ('{"title": "a\\u0000b"}', "application/json", "NUL"),
        ('{"title": "a\\ud800b"}', "application/json", "surrogate"),
        ('{"slug": "x", "\\udfff": 1}', "application/json", "surrogate"),
        ('{"title": 1e400}', "application/json", "finite"),
        ("[" * 40 + "]" * 40, "application/json", "nested"),
        ("[" * 100_000 + "]" * 100_000, "application/json", "not valid JSON"),
        ("1" * 5000, "application/json", "not valid JSON"),
    ],
)
def test_malformed_bodies_answer_400(app, api, data, content_type, message):
    response = api.post("/forms", data=data, content_type=content_type)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "bad_request"
    assert message in error["message"]


@pytest.mark.parametrize("body", ["[]", '"text"', "5", "null"])
def test_a_body_that_is_not_an_object_is_invalid(app, api, body):
    response = api.post("/forms", data=body, content_type="application/json")
    assert response.status_code == 422
    assert error_of(response)["code"] == "invalid"


def test_too_large_a_body_answers_413(app, api):
    response = api.post("/forms", json={"title": "x" * (1024 * 1024)})
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"


@pytest.mark.parametrize("path", ["/forms?x=%00", "/forms?%00=x", "/forms/1/files/a%00b"])
def test_nul_in_the_address_answers_400(app, api, path):
    make_form(app, CONTACT_FIELDS)
    response = api.get(path)
    assert response.status_code == 400
    assert "NUL" in error_of(response)["message"]


def test_wrong_method_answers_405_in_json(app, api):
    response = api.client.put("/api/v1/forms", headers=api.headers)
    assert response.status_code == 405
    error = error_of(response)
    assert error["code"] == "method_not_allowed"
    assert error["message"] == "This address does not take PUT; it takes GET, HEAD, POST, OPTIONS."
    assert response.headers["Allow"] == "GET, HEAD, POST, OPTIONS"
    assert "RateLimit-Remaining" in response.headers


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/forms/99999999999999999999999999"),
        ("patch", "/forms/9223372036854775808"),
        ("delete", "/forms/2147483648"),
        ("get", "/forms/0"),
        ("get", "/forms/-1"),
        ("get", "/forms/one"),
        ("get", "/submissions/99999999999999999999999999"),
        ("delete", "/webhooks/99999999999999999999999999"),
        ("get", "/forms/1/"),
        ("get", "/no-such-thing"),
    ],
)
def test_unknown_addresses_and_ids_out_of_range_answer_404_in_the_api_shape(app, api, method, path):
    make_form(app, CONTACT_FIELDS)
    response = getattr(api, method)(path, json={} if method == "patch" else None)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert "RateLimit-Remaining" in response.headers


def test_options_lists_only_the_addresses_own_methods(app, api):
    form_id = make_form(app, CONTACT_FIELDS).id
    response = api.client.options(f"/api/v1/forms/{form_id}", headers=api.headers)
    assert response.status_code == 200
    assert response.headers["Allow"] == "GET, HEAD, PATCH, DELETE, OPTIONS"


def test_answers_are_never_cached_and_never_set_cookies(app, api):
    response = api.get("/forms")
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
