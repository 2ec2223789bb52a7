"""The builder's logic editors without JavaScript: a question's show-if, a page's rules and
where it leads otherwise, and the flow overview with the publish checks' problems."""

from __future__ import annotations

import html
import re

import pytest
from argon2 import PasswordHasher

from app.extensions import db
from app.models import Form
from app.models import Role
from app.services import forms
from app.services.accounts import passwords
from tests.auth_helpers import AuthActions
from tests.public_helpers import fetch_submissions
from tests.public_helpers import page_token
from tests.public_helpers import parse_page

CHOICES = [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}]
FIELDS = [
    {"key": "member", "type": "single_choice", "label": "Member?", "rules": {"choices": CHOICES}},
    {"key": "age", "type": "number", "label": "Age"},
    {"key": "number", "type": "short_text", "label": "Membership number"},
    {"key": "details", "type": "page", "label": "Details"},
    {"key": "why", "type": "long_text", "label": "Why join?"},
    {"key": "last", "type": "page", "label": "Last words"},
    {"key": "comment", "type": "long_text", "label": "Anything else?"},
]


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def form_id(app) -> int:
    with app.app_context():
        form = forms.create_form(None, template="blank", slug="club")
        forms.save_fields(form, [dict(item) for item in FIELDS])
        return form.id


def draft(app, form_id: int) -> dict[str, dict]:
    with app.app_context():
        return {item["key"]: item for item in db.session.get(Form, form_id).draft_fields}


def text_of(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def errors_of(response) -> list[str]:
    page = response.get_data(as_text=True)
    found = re.findall(r'class="field-error">([^<]*)<', page)
    found += re.findall(r'<div class="form-errors" role="alert">\s*<p>([^<]*)</p>', page)
    return [html.unescape(message) for message in found]


def show_if_post(editor, form_id: int, key: str, **data):
    return AuthActions(editor).post(f"/forms/{form_id}/fields/{key}/show-if", data)


@pytest.fixture
def editor(signed_in):
    return signed_in(Role.EDITOR)


# --- show-if ---------------------------------------------------------------------------------


def test_a_show_if_added_with_the_plain_form_is_stored_published_and_honoured(
    app, client, editor, form_id
):
    page = editor.get(f"/forms/{form_id}/fields/number")
    assert page.status_code == 200
    assert "Show this question only if" in text_of(page)
    added = show_if_post(editor, form_id, "number", action="add", add_field="member")
    assert added.status_code == 200  # drawn again with the new test; nothing stored yet
    assert draft(app, form_id)["number"]["show_if"] is None
    added_page = parse_page(added)
    options = [option.attrs["value"] for option in added_page.find_all("option")]
    assert {"is", "is_not", "any_of", "none_of", "empty", "not_empty"} <= set(options)
    assert "contains" not in options  # a text test does not fit a choice question
    assert added_page.find("select", name="leaves-0-choice") is not None

    saved = show_if_post(
        editor,
        form_id,
        "number",
        join="all",
        **{"leaves-0-field": "member", "leaves-0-op": "is", "leaves-0-choice": "yes"},
    )
    assert saved.status_code == 303
    assert draft(app, form_id)["number"]["show_if"] == {
        "field": "member",
        "op": "is",
        "value": "yes",
    }
    shown = editor.get(saved.headers["Location"])
    assert "is shown only when its condition holds" in text_of(shown)

    published = AuthActions(editor).post(f"/forms/{form_id}/publish")
    assert published.status_code == 303
    first = client.get("/f/club")
    hint = parse_page(first).find("div", data_field="number")
    assert "Only if “Member?” is “Yes”." in hint.text
    data = {"_token": page_token(first), "_page": "page-1", "member": "no", "number": "42"}
    assert client.post("/f/club", data=data).headers["Location"] == "/f/club/p/details"
    details = client.get("/f/club/p/details")
    client.post("/f/club", data={"_token": page_token(details), "_page": "details", "why": "x"})
    last = client.get("/f/club/p/last")
    sent = client.post("/f/club", data={"_token": page_token(last), "_page": "last"})
    assert sent.headers["Location"] == "/f/club/thanks"
    (submission,) = fetch_submissions(app, "club")
    assert "number" not in submission.answers  # hidden by the condition: dropped
    assert submission.answers["member"] == "no"


def test_two_tests_joined_by_any_with_a_number_range(app, editor, form_id):
    response = show_if_post(
        editor,
        form_id,
        "why",
        join="any",
        **{
            "leaves-0-field": "age",
            "leaves-0-op": "between",
            "leaves-0-value": "18",
            "leaves-0-value_to": "30.5",
            "leaves-1-field": "member",
            "leaves-1-op": "any_of",
            "leaves-1-choices": ["yes", "no"],
        },
    )
    assert response.status_code == 303
    assert draft(app, form_id)["why"]["show_if"] == {
        "any": [
            {"field": "age", "op": "between", "value": [18, 30.5]},
            {"field": "member", "op": "any_of", "value": ["yes", "no"]},
        ]
    }
    page = editor.get(f"/forms/{form_id}/fields/why")
    tree = parse_page(page)
    assert tree.find("input", name="leaves-0-value").attrs["value"] == "18"
    assert tree.find("input", name="leaves-0-value_to").attrs["value"] == "30.5"


@pytest.mark.parametrize(
    ("leaf", "message"),
    [
        ({"field": "ghost", "op": "is", "choice": "yes"}, 'no question has the key "ghost"'),
        ({"field": "member", "op": "contains", "value": "y"}, "Choose a test that fits “Member?”"),
        ({"field": "comment", "op": "equals", "value": "x"}, "may only use earlier questions"),
        ({"field": "member", "op": "is", "choice": "maybe"}, 'names "maybe"'),
        ({"field": "age", "op": "gt", "value": "old"}, "must be a number"),
        ({"field": "age", "op": "gt", "value": ""}, "Type a number."),
    ],
)
def test_a_test_that_does_not_fit_is_refused_with_422_and_nothing_stored(
    app, editor, form_id, leaf, message
):
    data = {f"leaves-0-{name}": value for name, value in leaf.items()}
    response = show_if_post(editor, form_id, "why", join="all", **data)
    assert response.status_code == 422
    assert any(message in error for error in errors_of(response)), errors_of(response)
    assert draft(app, form_id)["why"]["show_if"] is None


def test_a_page_break_may_only_test_earlier_pages_questions(app, editor, form_id):
    page = parse_page(editor.get(f"/forms/{form_id}/fields/last"))
    offered = [
        option.attrs["value"] for option in page.find("select", name="add_field").find_all("option")
    ]
    assert offered == ["member", "age", "number", "why"]
    response = show_if_post(
        editor, form_id, "details", **{"leaves-0-field": "why", "leaves-0-op": "not_empty"}
    )
    assert response.status_code == 422
    assert draft(app, form_id)["details"]["show_if"] is None
    saved = show_if_post(
        editor, form_id, "last", **{"leaves-0-field": "why", "leaves-0-op": "not_empty"}
    )
    assert saved.status_code == 303
    assert draft(app, form_id)["last"]["show_if"] == {
        "field": "why",
        "op": "not_empty",
        "value": None,
    }


def test_a_condition_too_complex_for_the_editor_is_shown_in_words_and_kept(app, editor, form_id):
    complex_condition = {"not": {"any": [{"field": "member", "op": "is", "value": "yes"}]}}
    with app.app_context():
        forms.update_field(db.session.get(Form, form_id), "why", {"show_if": complex_condition})
    page = editor.get(f"/forms/{form_id}/fields/why")
    text = text_of(page)
    assert "not (“Member?” is “Yes”)" in text
    assert '"not"' in page.get_data(as_text=True).replace("&#34;", '"')
    assert parse_page(page).find("select", name="leaves-0-field") is None  # not in the editor
    saving_details = AuthActions(editor).post(
        f"/forms/{form_id}/fields/why", {"label": "Why join us?", "key": "why", "help": ""}
    )
    assert saving_details.status_code == 303
    assert draft(app, form_id)["why"]["show_if"] == complex_condition
    removed = show_if_post(editor, form_id, "why", action="remove")
    assert removed.status_code == 303
    assert draft(app, form_id)["why"]["show_if"] is None


# --- a page's rules ------------------------------------------------------------------------------


def test_rules_are_added_moved_and_deleted_and_the_default_set(app, editor, form_id):
    actions = AuthActions(editor)
    new = editor.get(f"/forms/{form_id}/fields/details/routes/new")
    assert new.status_code == 200
    goto = [
        o.attrs["value"] for o in parse_page(new).find("select", name="goto").find_all("option")
    ]
    assert goto == ["", "last", "submit"]  # later pages only
    first = actions.post(
        f"/forms/{form_id}/fields/details/routes/new",
        {"leaves-0-field": "why", "leaves-0-op": "empty", "goto": "submit"},
    )
    assert first.status_code == 303
    second = actions.post(
        f"/forms/{form_id}/fields/details/routes/new",
        {"leaves-0-field": "member", "leaves-0-op": "is", "leaves-0-choice": "no", "goto": "last"},
    )
    assert second.status_code == 303
    routes = draft(app, form_id)["details"]["rules"]["routes"]
    assert [route["goto"] for route in routes] == ["submit", "last"]

    moved = actions.post(f"/forms/{form_id}/fields/details/routes/1/move", {"direction": "up"})
    assert moved.status_code == 303
    assert [r["goto"] for r in draft(app, form_id)["details"]["rules"]["routes"]] == [
        "last",
        "submit",
    ]

    default = actions.post(f"/forms/{form_id}/fields/details/default", {"otherwise": "submit"})
    assert default.status_code == 303
    assert draft(app, form_id)["details"]["rules"]["default"] == "submit"

    page = text_of(editor.get(f"/forms/{form_id}/fields/details"))
    assert "If “Member?” is “No”, go to Page 3: Last words." in page
    assert "If “Why join?” is not answered, go to submit." in page

    renamed = actions.post(
        f"/forms/{form_id}/fields/details", {"label": "More", "key": "details", "help": ""}
    )
    # The page's title changes, and its unpublished key with it ("more"); its rules stay.
    assert renamed.status_code == 303
    assert len(draft(app, form_id)["more"]["rules"]["routes"]) == 2

    deleted = actions.post(f"/forms/{form_id}/fields/more/routes/0/delete")
    assert deleted.status_code == 303
    assert [r["goto"] for r in draft(app, form_id)["more"]["rules"]["routes"]] == ["submit"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"goto": "last"}, "A rule needs at least one test."),
        (
            {"leaves-0-field": "why", "leaves-0-op": "empty", "goto": ""},
            "Choose where the rule leads.",
        ),
        (
            {"leaves-0-field": "why", "leaves-0-op": "empty", "goto": "nowhere"},
            "there is no later page",
        ),
        (
            {"leaves-0-field": "why", "leaves-0-op": "empty", "goto": "page-1"},
            "would loop",
        ),
        (
            {"leaves-0-field": "comment", "leaves-0-op": "empty", "goto": "last"},
            "earlier questions",
        ),
    ],
)
def test_a_bad_rule_is_refused_with_422_and_nothing_stored(app, editor, form_id, data, message):
    response = AuthActions(editor).post(f"/forms/{form_id}/fields/details/routes/new", data)
    assert response.status_code == 422
    assert any(message in error for error in errors_of(response)), errors_of(response)
    assert draft(app, form_id)["details"]["rules"]["routes"] == []


def test_a_default_going_back_is_refused(app, editor, form_id):
    response = AuthActions(editor).post(
        f"/forms/{form_id}/fields/last/default", {"otherwise": "details"}
    )
    assert response.status_code == 422
    assert any("would loop" in error for error in errors_of(response)), errors_of(response)
    assert draft(app, form_id)["last"]["rules"].get("default") is None


# --- the overview ---------------------------------------------------------------------------


def test_the_overview_lists_pages_routes_in_words_and_problems_by_their_page(app, editor, form_id):
    with app.app_context():
        form = db.session.get(Form, form_id)
        forms.update_field(
            form,
            "details",
            {
                "rules": {
                    "routes": [
                        {"if": {"field": "member", "op": "is", "value": "no"}, "goto": "submit"}
                    ],
                    "default": "submit",  # so no path reaches the last page
                }
            },
        )
    response = editor.get(f"/forms/{form_id}/flow")
    assert response.status_code == 200
    tree = parse_page(response)
    headings = [heading.text for heading in tree.find_all("h2")]
    assert headings == ["Page 1", "Page 2: Details", "Page 3: Last words"]
    details = tree.find("li", id="page-details")
    assert "If “Member?” is “No”: go to submit." in details.text
    assert "Otherwise: go to submit." in details.text
    last = tree.find("li", id="page-last")
    assert "no path of answers leads here" in last.text
    assert "no path of answers leads here" not in details.text
    assert "1 problem stops publishing." in tree.find("div", id="flow-problems").text

    builder = text_of(editor.get(f"/forms/{form_id}"))
    assert "1 problem in the pages and logic stops publishing." in " ".join(builder.split())


def test_moving_a_question_past_a_page_break_moves_it_to_that_page(app, editor, form_id):
    moved = AuthActions(editor).post(f"/forms/{form_id}/fields/why/move", {"direction": "up"})
    assert moved.status_code == 303
    tree = parse_page(editor.get(f"/forms/{form_id}/flow"))
    assert "Why join?" in tree.find("li", id="page-page-1").text
    assert "Why join?" not in tree.find("li", id="page-details").text


# --- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("GET", "/forms/{id}/flow", None),
        (
            "POST",
            "/forms/{id}/fields/why/show-if",
            {"leaves-0-field": "age", "leaves-0-op": "empty"},
        ),
        ("GET", "/forms/{id}/fields/details/routes/new", None),
        ("POST", "/forms/{id}/fields/details/routes/new", {"goto": "submit"}),
        ("POST", "/forms/{id}/fields/details/default", {"otherwise": "submit"}),
    ],
)
def test_viewers_may_not_see_or_change_the_logic(app, signed_in, form_id, method, path, data):
    viewer = signed_in(Role.VIEWER)
    path = path.format(id=form_id)
    response = viewer.get(path) if method == "GET" else AuthActions(viewer).post(path, data)
    assert response.status_code == 403
    assert draft(app, form_id)["why"]["show_if"] is None


def test_a_post_without_the_csrf_token_is_refused(app, editor, form_id):
    data = {"leaves-0-field": "age", "leaves-0-op": "empty"}
    response = editor.post(f"/forms/{form_id}/fields/why/show-if", data=data)
    assert response.status_code == 400
    assert draft(app, form_id)["why"]["show_if"] is None


# --- the editor reads back what it stores ------------------------------------------------------


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "member", "op": "is", "value": "yes"},
        {"field": "member", "op": "none_of", "value": ["yes"]},
        {"field": "age", "op": "between", "value": [1, 2.5]},
        {"field": "age", "op": "gte", "value": 18},
        {"field": "number", "op": "starts_with", "value": " A"},
        {"field": "number", "op": "empty", "value": None},
        {
            "all": [
                {"field": "age", "op": "lt", "value": 3},
                {"field": "member", "op": "is_not", "value": "no"},
            ]
        },
        {
            "any": [
                {"field": "age", "op": "ne", "value": 3},
                {"field": "number", "op": "not_empty", "value": None},
            ]
        },
    ],
)
def test_a_condition_the_editor_shows_is_saved_back_unchanged(app, form_id, condition):
    with app.app_context():
        form = db.session.get(Form, form_id)
        state = forms.editor_input(condition)
        assert state is not None
        assert forms.save_show_if(form, "why", state) == condition


@pytest.mark.parametrize(
    "condition",
    [
        {"not": {"field": "member", "op": "is", "value": "yes"}},
        {"condition": "adult"},
        {"all": [{"any": [{"field": "age", "op": "lt", "value": 3}]}]},
        {"field": "age", "op": "lt", "value": 3, "note": "x"},
        {"all": []},
    ],
)
def test_a_condition_beyond_the_editor_is_not_read_into_it(condition):
    assert forms.editor_input(condition) is None


def test_the_live_preview_follows_the_logic(app, editor, form_id):
    with app.app_context():
        form = db.session.get(Form, form_id)
        forms.update_field(
            form, "number", {"show_if": {"field": "member", "op": "is", "value": "yes"}}
        )
        rules = {"routes": [{"if": {"field": "why", "op": "empty"}, "goto": "submit"}]}
        forms.update_field(form, "details", {"rules": rules})
    preview = parse_page(editor.get(f"/forms/{form_id}")).find("div", data_region="preview")
    text = preview.text
    assert "Only if “Member?” is “Yes”." in text
    assert "After this page, if “Why join?” is not answered, go to submit." in text
    assert "Otherwise, go to the next page, Page 3: Last words." in text
