"""The In progress folder: partial responses of a form with pages, the page each reached, their
export, and the summary's started, completed and drop-off per page."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy import text

from app.extensions import db
from app.models import Delivery
from app.models import Form
from app.models import PartialResponse
from app.models import Role
from app.models.types import utcnow
from app.services import inbox
from app.services.delivery import netcheck
from app.services.inbox import progress
from tests.delivery_helpers import add_webhook
from tests.delivery_helpers import set_recipients
from tests.form_helpers import make_form
from tests.public_helpers import page_token
from tests.public_helpers import parse_page
from tests.test_inbox import fresh_caches  # noqa: F401 -- an autouse fixture

PARIS = ZoneInfo("Europe/Paris")
MEMBER = {"field": "member", "op": "is", "value": "yes"}
FIELDS = [
    {"key": "about", "type": "page", "label": "About you"},
    {"key": "name", "type": "short_text", "label": "Name", "required": True},
    {"key": "member", "type": "single_choice", "label": "Member?", "required": True,
     "rules": {"choices": ["yes", "no"]}},
    {"key": "number", "type": "short_text", "label": "Membership number", "show_if": MEMBER},
    {"key": "join", "type": "page", "label": "Joining", "show_if": {"not": MEMBER}},
    {"key": "why", "type": "long_text", "label": "Why join?", "required": True},
    {"key": "last", "type": "page", "label": "Last words"},
    {"key": "comment", "type": "long_text", "label": "Anything else?"},
]  # fmt: skip


@pytest.fixture
def club(app, owner):
    return make_form(app, FIELDS, title="Club", slug="club").id


def post_page(respondent, response, page: str, **answers):
    data = {"_token": page_token(response), "_page": page, **answers}
    return respondent.post("/f/club", data=data)


def answer_first_page(app, **answers):
    """A new respondent (their own browser) who answers the first page; their browser."""
    respondent = app.test_client()
    moved = post_page(respondent, respondent.get("/f/club"), "about", **answers)
    assert moved.status_code == 303
    return respondent


@pytest.fixture
def two_started(app, club):
    """Ann, not a member, on the joining page; then Bo, a member, on the last page."""
    ann = answer_first_page(app, name="Ann", member="no")
    bo = answer_first_page(app, name="=Bo", member="yes", number="42")
    return club, ann, bo


def folder_rows(client, form_id: int, query: str = "") -> list[list[str]]:
    response = client.get(f"/forms/{form_id}/in-progress{query}")
    assert response.status_code == 200
    table = parse_page(response).find("table", id="in-progress-table")
    if table is None:
        return []
    return [
        [" ".join(cell.text.split()) for cell in row.find_all("td")]
        for row in table.find("tbody").find_all("tr")
    ]


def test_the_folder_lists_who_is_part_way_with_the_page_reached(app, signed_in, two_started):
    form_id, _ann, _bo = two_started
    viewer = signed_in(Role.VIEWER, timezone="Europe/Paris")
    submissions = viewer.get(f"/forms/{form_id}/submissions").get_data(as_text=True)
    assert f'href="/forms/{form_id}/in-progress"' in submissions
    assert "No submissions yet." in submissions

    bo_row, ann_row = folder_rows(viewer, form_id)  # last touched first
    # Last touched, started, page reached, answered so far, expires, then the answer columns.
    assert bo_row[2:5] == ["Last words page 3 of 3", "3", bo_row[4]]
    assert bo_row[5:9] == ["=Bo", "yes", "42", ""]
    assert ann_row[2:4] == ["Joining page 2 of 3", "2"]
    assert ann_row[5:9] == ["Ann", "no", "", ""]
    with app.app_context():
        ann = db.session.scalar(select(PartialResponse).order_by(PartialResponse.id))
        touched, expires = ann.updated_at.astimezone(PARIS), ann.expires_at.astimezone(PARIS)
    assert ann_row[0] == touched.strftime("%Y-%m-%d %H:%M")
    assert ann_row[4] == expires.strftime("%Y-%m-%d %H:%M")


def test_the_chosen_columns_show_in_the_folder(signed_in, two_started):
    form_id, _ann, _bo = two_started
    rows = folder_rows(signed_in(Role.VIEWER), form_id, "?cols=number")
    assert [row[5:] for row in rows] == [["42"], [""]]


def test_partials_are_never_unread_nor_notified_until_sent(app, monkeypatch, two_started):
    form_id, ann, bo = two_started
    monkeypatch.setattr(netcheck, "system_resolver", lambda host, port: ["93.184.215.14"])
    set_recipients(app, form_id, "club@example.com")
    add_webhook(app, form_id, "https://hooks.example/club")
    post_page(ann, ann.get("/f/club/p/join"), "join", why="To meet people")  # on to page 3
    with app.app_context():
        assert inbox.unread_counts() == {}
        assert db.session.scalars(select(Delivery)).all() == []
    post_page(bo, bo.get("/f/club/p/last"), "last", comment="Hi")
    with app.app_context():
        assert inbox.unread_counts() == {form_id: 1}
        sent = db.session.scalars(select(Delivery.kind)).all()
        assert sorted(kind.value for kind in sent) == ["email", "webhook"]


def export(client, form_id: int, export_format: str):
    response = client.get(f"/forms/{form_id}/in-progress/export?format={export_format}")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Disposition"].startswith('attachment; filename="club-in-pro')
    return response


def test_the_csv_export_has_the_page_reached_and_the_answers_so_far(signed_in, two_started):
    form_id, _ann, _bo = two_started
    response = export(signed_in(Role.VIEWER, timezone="Europe/Paris"), form_id, "csv")
    assert response.headers["X-Export-Rows"] == "2"
    header, bo, ann = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert header == [
        "Started", "Last touched", "Version", "Page reached", "Name (name)",
        "Member? (member)", "Membership number (number)", "Why join? (why)",
        "Anything else? (comment)", "Expires",
    ]  # fmt: skip
    assert bo[2:9] == ["1", "Last words (page 3 of 3)", "'=Bo", "yes", "42", "", ""]
    assert ann[2:9] == ["1", "Joining (page 2 of 3)", "Ann", "no", "", "", ""]
    assert ann[0].endswith(("+01:00", "+02:00")) and ann[9].endswith(("+01:00", "+02:00"))


def test_the_json_lines_export_keeps_answers_as_stored(signed_in, two_started):
    form_id, _ann, _bo = two_started
    response = export(signed_in(Role.VIEWER), form_id, "jsonl")
    bo, ann = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    # Not reached and hidden questions are absent; nothing is made up for them.
    assert ann["answers"] == {"name": "Ann", "member": "no"}
    assert bo["answers"] == {"name": "=Bo", "member": "yes", "number": "42"}
    assert ann["page_reached"] == {"id": "join", "title": "Joining", "number": 2}
    assert ann["pages"] == 3 and ann["path"] == ["about", "join"]
    assert bo["path"] == ["about", "last"] and ann["version"] == 1
    assert ann["started_at"] <= ann["last_touched_at"] < ann["expires_at"]


def test_the_xlsx_export_reads_back(signed_in, two_started):
    form_id, _ann, _bo = two_started
    response = export(signed_in(Role.VIEWER), form_id, "xlsx")
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:5] == ["Started", "Last touched", "Version", "Page reached", "Name (name)"]
    assert rows[2][2:6] == [1, "Joining (page 2 of 3)", "Ann", "no"]
    assert rows[1][4] == "'=Bo"  # text, and neutralised
    assert len(rows) == 3


def test_a_finished_response_leaves_the_folder_for_the_inbox(app, signed_in, two_started):
    form_id, _ann, bo = two_started
    last = bo.get("/f/club/p/last")
    assert post_page(bo, last, "last", comment="Hi").headers["Location"] == "/f/club/thanks"
    viewer = signed_in(Role.VIEWER)
    (ann_row,) = folder_rows(viewer, form_id)
    assert ann_row[5] == "Ann"
    submissions = viewer.get(f"/forms/{form_id}/submissions").get_data(as_text=True)
    assert "=Bo" in submissions and "Ann" not in submissions


def test_the_summary_shows_started_completed_and_where_people_stop(app, signed_in, two_started):
    form_id, _ann, bo = two_started
    post_page(bo, bo.get("/f/club/p/last"), "last", comment="")
    page = parse_page(signed_in(Role.VIEWER).get(f"/forms/{form_id}/summary"))
    assert page.find("dd", id="flow-started").text == "2"
    assert page.find("dd", id="flow-completed").text == "1"
    assert page.find("dd", id="flow-completion-rate").text == "50.0%"
    table = page.find("table", id="chart-drop-off-table")
    rows = [
        [row.find("th").text.strip(), row.find("td").text.strip()]
        for row in table.find("tbody").find_all("tr")
    ]
    assert rows == [
        ["About you (page 1 of 3)", "0"],
        ["Joining (page 2 of 3)", "1"],
        ["Last words (page 3 of 3)", "0"],
    ]
    canvas = page.find("canvas", id="chart-drop-off")
    assert canvas.attrs["role"] == "img" and "by the page" in canvas.attrs["aria-label"]


def test_a_one_page_form_has_no_in_progress_folder_nor_flow_figures(app, signed_in, owner):
    form_id = make_form(app, [FIELDS[1]], title="Plain", slug="plain").id
    viewer = signed_in(Role.VIEWER)
    submissions = viewer.get(f"/forms/{form_id}/submissions").get_data(as_text=True)
    assert "In progress" not in submissions
    summary = parse_page(viewer.get(f"/forms/{form_id}/summary"))
    assert summary.find("dd", id="flow-started") is None


def test_saving_gives_a_one_page_form_the_folder_without_drop_off(app, signed_in, owner):
    form_id = make_form(app, [FIELDS[1]], title="Plain", slug="plain", allow_saving=True).id
    viewer = signed_in(Role.VIEWER)
    submissions = viewer.get(f"/forms/{form_id}/submissions").get_data(as_text=True)
    assert f'href="/forms/{form_id}/in-progress"' in submissions
    summary = parse_page(viewer.get(f"/forms/{form_id}/summary"))
    assert summary.find("dd", id="flow-started").text == "0"
    assert summary.find("table", id="chart-drop-off-table") is None


def test_another_form_s_partials_never_appear(app, signed_in, two_started):
    form_id, _ann, _bo = two_started
    assert len(folder_rows(signed_in(Role.VIEWER), form_id)) == 2
    other = make_form(app, FIELDS, title="Other", slug="other").id
    viewer = signed_in(Role.VIEWER)
    assert folder_rows(viewer, other) == []
    empty = viewer.get(f"/forms/{other}/in-progress/export?format=jsonl")
    assert empty.get_data() == b"" and empty.headers["X-Export-Rows"] == "0"
    summary = parse_page(viewer.get(f"/forms/{other}/summary"))
    assert summary.find("dd", id="flow-started").text == "0"


@pytest.mark.parametrize("path", ["in-progress", "in-progress/export?format=csv"])
def test_only_signed_in_users_read_the_folder(app, client, two_started, path):
    form_id, _ann, _bo = two_started
    response = client.get(f"/forms/{form_id}/{path}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_unknown_form_or_format_is_not_found(signed_in, two_started):
    form_id, _ann, _bo = two_started
    viewer = signed_in(Role.VIEWER)
    assert viewer.get(f"/forms/{form_id + 100}/in-progress").status_code == 404
    assert viewer.get(f"/forms/{form_id}/in-progress/export?format=pdf").status_code == 404


def add_partials(app, form_id: int, count: int) -> list[int]:
    """``count`` partial responses touched a minute apart (the first most recently), two of
    them at the same moment, and an expired one; their ids, newest touched first."""
    now = utcnow()
    with app.app_context():
        version_id = db.session.get(Form, form_id).published_version_id
        made = []
        for index in range(count + 1):
            touched = now - timedelta(minutes=index if index != 1 else 0)
            expired = index == count
            partial = PartialResponse(
                form_id=form_id,
                version_id=version_id,
                answers={"name": f"P{index}"},
                path=["about"],
                browser_token_hash=f"{index:064x}",
                created_at=touched - timedelta(hours=1),
                updated_at=touched,
                expires_at=now + (timedelta(days=-1) if expired else timedelta(days=7)),
            )
            db.session.add(partial)
            db.session.flush()
            made.append((touched, partial.id, expired))
        db.session.commit()
    return [id_ for _touched, id_, expired in sorted(made, reverse=True) if not expired]


def names_on(client, url: str) -> tuple[list[str], object]:
    response = client.get(url)
    page = parse_page(response)
    rows = page.find("table", id="in-progress-table").find("tbody").find_all("tr")
    return [row.find_all("td")[5].text.strip() for row in rows], page


def test_the_folder_pages_by_keyset_newest_touched_first(app, signed_in, club):
    add_partials(app, club, 55)
    viewer = signed_in(Role.VIEWER)
    first, page = names_on(viewer, f"/forms/{club}/in-progress")
    # P0 and P1 were touched at the same moment: the later made (P1) comes first.
    assert first == ["P1", "P0"] + [f"P{index}" for index in range(2, 50)]
    older = page.find("a", rel="next").attrs["href"]
    assert page.find("a", rel="prev") is None
    second, page = names_on(viewer, older)
    assert second == [f"P{index}" for index in range(50, 55)]  # not the expired P55
    assert page.find("a", rel="next") is None
    back, _page = names_on(viewer, page.find("a", rel="prev").attrs["href"])
    assert back == first
    with app.app_context():
        assert progress.count_in_progress(db.session.get(Form, club)) == 55


def test_the_folder_s_query_reads_the_keyset_index(app, club):
    """The listing walks (form_id, updated_at, id) rather than sorting the form's partials."""
    add_partials(app, club, 3)
    with app.app_context():
        form = db.session.get(Form, club)
        query = progress.in_progress_query(form, after=None, before=None, size=50)
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = db.session.execute(text(f"EXPLAIN {compiled}")).scalars().all()
        else:
            plan = [row[-1] for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
        db.session.rollback()
    described = " ".join(plan)
    assert "ix_partial_responses_form_id_updated_at_id" in described
    assert "TEMP B-TREE" not in described and "Sort" not in described


def test_a_respondent_one_question_at_a_time_or_checking_stands_at_their_versions_page(app, club):
    with app.app_context():
        form = db.session.get(Form, club)
        version_id = form.published_version_id
        # One question at a time: a page's later questions are pages named by their keys.
        assert str(progress.reached_at(version_id, "member")) == "About you (page 1 of 3)"
        assert str(progress.reached_at(version_id, "number")) == "About you (page 1 of 3)"
        assert str(progress.reached_at(version_id, "join")) == "Joining (page 2 of 3)"
        checking = progress.reached_at(version_id, "check-answers")
        assert (checking.title, checking.number, checking.of) == ("Checking their answers", 3, 3)
