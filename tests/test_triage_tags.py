"""Triage: tags and a private note on a submission, on its page, in the list's filter and
bulk actions, in the exports and in the API."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import Form
from app.models import Role
from app.models import Submission
from app.models import SubmissionNote
from app.models import SubmissionTag
from app.models import Tag
from app.services.inbox import tagging
from tests.api_helpers import CONTACT_FIELDS
from tests.api_helpers import ApiClient
from tests.api_helpers import error_of
from tests.api_helpers import make_token
from tests.auth_helpers import csrf_token_from
from tests.form_helpers import make_form
from tests.test_inbox import add_submission


@pytest.fixture
def form_id(app, owner) -> int:
    return make_form(app, CONTACT_FIELDS).id


@pytest.fixture
def editor(signed_in):
    return signed_in(Role.EDITOR)


def answers(name: str) -> dict:
    return {"name": name, "email": f"{name.lower()}@example.com", "topic": "sales"}


def page_of(client, form_id: int, submission_id: int, **args):
    return client.get(f"/forms/{form_id}/submissions/{submission_id}", query_string=args)


def post_on_page(client, form_id: int, submission_id: int, path: str, data: dict):
    token = csrf_token_from(page_of(client, form_id, submission_id))
    return client.post(
        f"/forms/{form_id}/submissions/{submission_id}/{path}",
        data={"csrf_token": token, **data},
    )


def stored_tags(app, submission_id: int) -> list[str]:
    with app.app_context():
        return tagging.tag_names(db.session.get(Submission, submission_id))


def stored_note(app, submission_id: int) -> SubmissionNote | None:
    with app.app_context():
        note = db.session.get(SubmissionNote, submission_id)
        if note is not None:
            db.session.expunge(note)
        return note


def tag_directly(app, form_id: int, submission_id: int, *names: str) -> None:
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        tagging.set_tags(db.session.get(Form, form_id), submission, names)


# --- the submission's page ------------------------------------------------------------------


def test_an_editor_adds_a_normalised_tag_and_removes_it(app, form_id, editor):
    submission_id = add_submission(app, form_id, answers("Ann"))
    response = post_on_page(editor, form_id, submission_id, "tags", {"new_tag": "  Follow   UP "})
    assert response.status_code == 302
    assert stored_tags(app, submission_id) == ["follow up"]
    page = page_of(editor, form_id, submission_id).get_data(as_text=True)
    assert "Tagged “follow up”." in page
    assert ">follow up</a>" in page
    # Adding it again leaves one tag; another tag joins it, A to Z.
    post_on_page(editor, form_id, submission_id, "tags", {"new_tag": "follow up"})
    post_on_page(editor, form_id, submission_id, "tags", {"new_tag": "billing"})
    assert stored_tags(app, submission_id) == ["billing", "follow up"]

    response = post_on_page(
        editor, form_id, submission_id, "tags/remove", {"remove_tag": "follow up"}
    )
    assert response.status_code == 302
    assert stored_tags(app, submission_id) == ["billing"]


def test_the_form_s_tags_in_use_are_suggested(app, form_id, editor):
    first = add_submission(app, form_id, answers("Ann"))
    second = add_submission(app, form_id, answers("Bob"))
    tag_directly(app, form_id, first, "vip", "refund")
    page = page_of(editor, form_id, second).get_data(as_text=True)
    suggestions = re.search(r'<datalist id="tag-suggestions">(.*?)</datalist>', page).group(1)
    assert suggestions == '<option value="refund"><option value="vip">'


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("   ", "Enter a tag."),
        ("x" * 31, "A tag has at most 30 characters."),
        ("=HYPERLINK()", "A tag starts with a letter or digit"),
    ],
)
def test_a_bad_tag_is_refused_with_422_and_the_page_again(app, form_id, editor, typed, message):
    submission_id = add_submission(app, form_id, answers("Ann"))
    response = post_on_page(editor, form_id, submission_id, "tags", {"new_tag": typed})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'class="error-summary"' in page
    assert message in page
    assert 'aria-invalid="true"' in page
    assert stored_tags(app, submission_id) == []


def test_no_more_than_ten_tags_on_one_submission(app, form_id, editor):
    submission_id = add_submission(app, form_id, answers("Ann"))
    tag_directly(app, form_id, submission_id, *[f"t{number}" for number in range(10)])
    response = post_on_page(editor, form_id, submission_id, "tags", {"new_tag": "one more"})
    assert response.status_code == 422
    assert "A submission has at most 10 tags; remove one first." in response.get_data(as_text=True)
    assert len(stored_tags(app, submission_id)) == 10


def test_the_note_is_saved_escaped_and_signed(app, form_id, editor):
    submission_id = add_submission(app, form_id, answers("Ann"))
    text = "Called back <b>twice</b>\r\nwaiting on the invoice"
    response = post_on_page(editor, form_id, submission_id, "note", {"note": text})
    assert response.status_code == 302
    note = stored_note(app, submission_id)
    assert note.text == "Called back <b>twice</b>\nwaiting on the invoice"
    page = page_of(editor, form_id, submission_id).get_data(as_text=True)
    assert "Called back &lt;b&gt;twice&lt;/b&gt;\nwaiting on the invoice</textarea>" in page
    assert "Last changed by Editor on" in page
    # Emptied, the note is gone.
    post_on_page(editor, form_id, submission_id, "note", {"note": "  "})
    assert stored_note(app, submission_id) is None


def test_a_note_too_long_is_refused_and_kept_in_the_box(app, form_id, editor):
    submission_id = add_submission(app, form_id, answers("Ann"))
    response = post_on_page(editor, form_id, submission_id, "note", {"note": "n" * 5001})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "A note has at most 5000 characters." in page
    assert "n" * 5001 + "</textarea>" in page
    assert stored_note(app, submission_id) is None


def test_a_viewer_sees_tags_and_note_but_cannot_change_them(app, form_id, editor, signed_in):
    submission_id = add_submission(app, form_id, answers("Ann"))
    tag_directly(app, form_id, submission_id, "vip")
    post_on_page(editor, form_id, submission_id, "note", {"note": "Handle with care"})
    viewer = signed_in(Role.VIEWER)
    page = page_of(viewer, form_id, submission_id).get_data(as_text=True)
    assert ">vip</a>" in page
    assert "Handle with care" in page
    assert "Add a tag" not in page and "Save note" not in page
    token = csrf_token_from(viewer.get("/account", follow_redirects=True))
    for path, data in [
        ("tags", {"new_tag": "mine"}),
        ("tags/remove", {"remove_tag": "vip"}),
        ("note", {"note": "mine"}),
    ]:
        response = viewer.post(
            f"/forms/{form_id}/submissions/{submission_id}/{path}",
            data={"csrf_token": token, **data},
        )
        assert response.status_code == 403
    assert stored_tags(app, submission_id) == ["vip"]
    assert stored_note(app, submission_id).text == "Handle with care"


# --- the list: filter and bulk ----------------------------------------------------------------


def listed_ids(client, form_id: int, **args) -> tuple[list[int], str | None]:
    page = client.get(f"/forms/{form_id}/submissions", query_string=args).get_data(as_text=True)
    ids = [int(found) for found in re.findall(r'name="ids" value="(\d+)"', page)]
    older = re.search(r'after=([\d.-]+)[^"]*" rel="next"', page)
    return ids, older.group(1) if older else None


def test_the_tag_filter_pages_through_exactly_the_tagged_rows(app, form_id, editor):
    ids = [
        add_submission(app, form_id, answers(f"P{number}"), minutes_ago=number)
        for number in range(130)
    ]
    tagged = [submission_id for index, submission_id in enumerate(ids) if index % 2 == 0]
    with app.app_context():
        tag_id = tagging._tag_ids(db.session.get(Form, form_id), ["vip"])["vip"]
        tagging._link(tag_id, tagged)
        db.session.commit()
    seen, cursor = [], None
    while True:
        args = {"tag": "VIP"} if cursor is None else {"tag": "VIP", "after": cursor}
        page_ids, cursor = listed_ids(editor, form_id, **args)
        seen += page_ids
        if cursor is None:
            break
        assert "tag=vip" in editor.get(
            f"/forms/{form_id}/submissions", query_string={"tag": "vip"}
        ).get_data(as_text=True)
    assert seen == tagged  # newest first, each once, none untagged
    assert listed_ids(editor, form_id, tag="nobody")[0] == []


def test_bulk_add_tag_tags_the_selected_rows(app, form_id, editor):
    first = add_submission(app, form_id, answers("Ann"))
    second = add_submission(app, form_id, answers("Bob"))
    third = add_submission(app, form_id, answers("Cy"))
    token = csrf_token_from(editor.get(f"/forms/{form_id}/submissions"))
    response = editor.post(
        f"/forms/{form_id}/submissions/bulk",
        data={
            "csrf_token": token,
            "action": "tag",
            "new_tag": "Press",
            "scope": "selected",
            "ids": [str(first), str(third)],
        },
        follow_redirects=True,
    )
    assert "Tagged 2 submissions." in response.get_data(as_text=True)
    assert [stored_tags(app, row) for row in (first, second, third)] == [["press"], [], ["press"]]
    response = editor.post(
        f"/forms/{form_id}/submissions/bulk",
        data={"csrf_token": token, "action": "tag", "new_tag": "", "ids": [str(second)]},
        follow_redirects=True,
    )
    assert "Enter a tag." in response.get_data(as_text=True)
    assert stored_tags(app, second) == []


def test_the_filter_uses_the_tag_index(app, form_id):
    with app.app_context():
        indexes = {index.name: index for index in SubmissionTag.__table__.indexes}
        columns = [
            column.name for column in indexes["ix_submission_tags_tag_id_submission_id"].columns
        ]
        assert columns == ["tag_id", "submission_id"]
        assert db.session.scalars(select(Tag)).all() == []


# --- exports ---------------------------------------------------------------------------------


@pytest.fixture
def triaged(app, form_id, editor) -> tuple[int, int]:
    plain = add_submission(app, form_id, answers("Ann"), minutes_ago=5)
    marked = add_submission(app, form_id, answers("Bob"), minutes_ago=1)
    tag_directly(app, form_id, marked, "vip", "billing")
    post_on_page(editor, form_id, marked, "note", {"note": '=HYPERLINK("x")\nsecond line'})
    return plain, marked


def test_csv_has_tags_and_a_formula_safe_note(app, form_id, editor, triaged):
    plain, marked = triaged
    response = editor.get(f"/forms/{form_id}/submissions/export", query_string={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    by_id = {int(row["Submission ID"]): row for row in rows}
    assert by_id[marked]["Tags"] == "billing, vip"
    assert by_id[marked]["Note"] == '\'=HYPERLINK("x")\nsecond line'
    assert by_id[plain]["Tags"] == "" and by_id[plain]["Note"] == ""
    # The tag filter carries to the export.
    response = editor.get(
        f"/forms/{form_id}/submissions/export", query_string={"format": "csv", "tag": "vip"}
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [int(row["Submission ID"]) for row in rows] == [marked]


def test_xlsx_and_json_lines_have_tags_and_note(app, form_id, editor, triaged):
    _plain, marked = triaged
    data = editor.get(
        f"/forms/{form_id}/submissions/export", query_string={"format": "xlsx"}
    ).get_data()
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    head, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert head[-2:] == ["Tags", "Note"]
    assert rows[0][0] == marked and rows[0][-2:] == [
        "billing, vip",
        '\'=HYPERLINK("x")\nsecond line',
    ]
    assert rows[1][-2:] == [None, None]
    lines = editor.get(
        f"/forms/{form_id}/submissions/export", query_string={"format": "jsonl"}
    ).get_data(as_text=True)
    records = [json.loads(line) for line in lines.splitlines()]
    assert records[0]["tags"] == ["billing", "vip"]
    assert records[0]["note"] == '=HYPERLINK("x")\nsecond line'
    assert records[1]["tags"] == [] and records[1]["note"] is None


# --- the API ---------------------------------------------------------------------------------


@pytest.fixture
def api(app, client, owner) -> ApiClient:
    return ApiClient(client, make_token(app, "ed@example.com", Role.EDITOR))


def test_the_api_patch_sets_tags_and_note_and_get_shows_them(app, api, form_id):
    submission_id = add_submission(app, form_id, answers("Ann"))
    response = api.patch(
        f"/submissions/{submission_id}",
        json={"tags": ["Refund", "vip", "VIP"], "note": "Refund sent", "starred": True},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["tags"] == ["refund", "vip"]
    assert body["starred"] is True
    assert body["note"]["text"] == "Refund sent"
    assert body["note"]["changed_by"]["name"] == "Ed"
    assert body["note"]["changed_at"].endswith("Z") or "+" in body["note"]["changed_at"]
    shown = api.get(f"/submissions/{submission_id}").get_json()
    assert shown["tags"] == ["refund", "vip"] and shown["note"]["text"] == "Refund sent"
    listed = api.get(f"/forms/{form_id}/submissions", query_string={"tag": "vip"}).get_json()
    assert [row["id"] for row in listed["data"]] == [submission_id]
    assert listed["data"][0]["note"]["text"] == "Refund sent"
    # An empty list and an empty note clear them.
    cleared = api.patch(f"/submissions/{submission_id}", json={"tags": [], "note": ""}).get_json()
    assert cleared["tags"] == [] and cleared["note"] is None
    assert (
        api.get(f"/forms/{form_id}/submissions", query_string={"tag": "vip"}).get_json()["data"]
        == []
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tags": [""]}, "Enter a tag."),
        ({"tags": ["x" * 31]}, "A tag has at most 30 characters."),
        ({"tags": [f"t{number}" for number in range(11)]}, "A submission has at most 10 tags."),
        ({"note": "n" * 5001, "starred": True}, "A note has at most 5000 characters."),
    ],
)
def test_the_api_refuses_bad_tags_or_note_before_changing_anything(
    app, api, form_id, changes, message
):
    submission_id = add_submission(app, form_id, answers("Ann"))
    response = api.patch(f"/submissions/{submission_id}", json=changes)
    assert response.status_code == 422
    assert error_of(response)["message"] == message
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        assert not submission.is_starred
        assert submission.tags == [] and submission.note is None


def test_a_viewer_s_token_reads_tags_but_cannot_patch_them(app, client, form_id):
    submission_id = add_submission(app, form_id, answers("Ann"))
    tag_directly(app, form_id, submission_id, "vip")
    viewer = ApiClient(client, make_token(app, "vi@example.com", Role.VIEWER, scope="read"))
    assert viewer.get(f"/submissions/{submission_id}").get_json()["tags"] == ["vip"]
    response = viewer.patch(f"/submissions/{submission_id}", json={"tags": ["mine"]})
    assert response.status_code == 403
    assert stored_tags(app, submission_id) == ["vip"]
