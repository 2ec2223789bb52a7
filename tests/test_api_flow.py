"""Pages and conditions through the API, and what a hidden question leaves in the JSON that
goes out (the API, the JSON export, webhooks): nothing, where an unanswered one is null."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.models import Role
from app.models import Submission
from tests.api_helpers import ApiClient
from tests.api_helpers import error_of
from tests.api_helpers import make_token
from tests.form_helpers import make_form

MEMBER = {"field": "member", "op": "is", "value": "yes"}
ITEMS = [
    {"key": "about", "type": "page", "label": "About you"},
    {"key": "name", "type": "short_text", "label": "Name", "required": True},
    {"key": "member", "type": "single_choice", "label": "Member?", "required": True,
     "rules": {"choices": ["yes", "no"]}},
    {"key": "number", "type": "short_text", "label": "Number", "required": True,
     "show_if": {"condition": "is_member"}},
    {"key": "join", "type": "page", "label": "Joining",
     "show_if": {"not": {"condition": "is_member"}}},
    {"key": "why", "type": "long_text", "label": "Why join?", "required": True},
    {"key": "last", "type": "page", "label": "Last words"},
    {"key": "comment", "type": "long_text", "label": "Anything else?"},
]  # fmt: skip


@pytest.fixture
def api(app, client, owner) -> ApiClient:
    return ApiClient(client, make_token(app, "ed@example.com", Role.EDITOR))


@pytest.fixture
def form_id(app, api) -> int:
    form_id = make_form(app, publish=False, slug="join").id
    response = api.patch(
        f"/forms/{form_id}", json={"fields": ITEMS, "conditions": {"is_member": MEMBER}}
    )
    assert response.status_code == 200, response.get_json()
    assert api.post(f"/forms/{form_id}/publish").status_code == 200
    return form_id


def stored_answers(app) -> list[dict]:
    with app.app_context():
        return [row.answers for row in db.session.query(Submission).order_by(Submission.id)]


def test_the_draft_and_the_version_carry_pages_and_conditions(api, form_id):
    form = api.get(f"/forms/{form_id}").get_json()
    assert form["draft"]["conditions"] == {"is_member": MEMBER}
    assert [field["key"] for field in form["draft"]["fields"]][:2] == ["about", "name"]
    published = form["published"]
    assert published["conditions"] == {"is_member": MEMBER}
    assert [field["key"] for field in published["fields"]] == [
        "name", "member", "number", "why", "comment",
    ]  # fmt: skip
    assert [(page["id"], page["title"], page["fields"]) for page in published["pages"]] == [
        ("about", "About you", ["name", "member", "number"]),
        ("join", "Joining", ["why"]),
        ("last", "Last words", ["comment"]),
    ]
    assert published["pages"][1]["show_if"] == {"not": {"condition": "is_member"}}
    assert published["pages"][0]["routes"] == []


def test_a_form_of_one_page_has_no_pages(app, api):
    form_id = make_form(app, [{"key": "name", "type": "short_text", "label": "Name"}]).id
    published = api.get(f"/forms/{form_id}").get_json()["published"]
    assert published["pages"] is None
    assert published["conditions"] is None


def test_conditions_that_are_not_an_object_are_refused_and_nothing_changes(app, api, form_id):
    response = api.patch(f"/forms/{form_id}", json={"conditions": ["x"], "title": "Renamed"})
    assert response.status_code == 422
    assert "conditions" in json.dumps(error_of(response))
    form = api.get(f"/forms/{form_id}").get_json()
    assert form["title"] != "Renamed"
    assert form["draft"]["conditions"] == {"is_member": MEMBER}


def test_a_missing_named_condition_stops_publishing_with_its_path(api, form_id):
    assert api.patch(f"/forms/{form_id}", json={"conditions": None}).status_code == 200
    assert api.get(f"/forms/{form_id}").get_json()["draft"]["conditions"] is None
    response = api.post(f"/forms/{form_id}/publish")
    assert response.status_code == 422
    details = error_of(response)["details"]
    assert list(details) == ["fields[3].show_if.condition"]
    assert "is_member" in details["fields[3].show_if.condition"][0]


def test_an_api_submission_drops_hidden_answers_and_requires_visible_ones(app, api, form_id):
    member = {"name": "Ann", "member": "yes", "number": "42", "why": "sneaked in"}
    response = api.post(f"/forms/{form_id}/submissions", json={"answers": member})
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["answers"] == {"name": "Ann", "member": "yes", "number": "42", "comment": None}
    assert created["meta"]["path"] == ["about", "last"]

    refused = api.post(
        f"/forms/{form_id}/submissions", json={"answers": {"name": "Bo", "member": "no"}}
    )
    assert refused.status_code == 422
    assert error_of(refused)["details"] == {"answers.why": ["This field is required."]}
    assert stored_answers(app) == [
        {"name": "Ann", "member": "yes", "number": "42", "comment": None}
    ]


def test_the_json_export_and_the_api_leave_hidden_answers_out(app, api, form_id, signed_in):
    api.post(
        f"/forms/{form_id}/submissions",
        json={"answers": {"name": "Bo", "member": "no", "why": "Fun"}},
    )
    [listed] = api.get(f"/forms/{form_id}/submissions").get_json()["data"]
    assert listed["answers"] == {"name": "Bo", "member": "no", "why": "Fun", "comment": None}
    assert "number" not in listed["answers"]  # hidden: absent; "comment" unanswered: null

    client = signed_in(Role.VIEWER)
    export = client.get(f"/forms/{form_id}/submissions/export?format=jsonl")
    assert export.status_code == 200
    [record] = [json.loads(line) for line in export.data.decode().splitlines()]
    assert record["answers"] == {"name": "Bo", "member": "no", "why": "Fun", "comment": None}
    assert record["path"] == ["about", "join", "last"]
