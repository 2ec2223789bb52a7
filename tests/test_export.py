"""Exports: CSV, Excel and JSON Lines of the current filter, read back with real readers."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC
from datetime import date
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.fields import UploadedFile
from app.fields import answer_csv_cell
from app.fields.base import escape_formula
from app.models import Form
from app.models import Role
from app.models import Submission
from app.services import exports
from app.services import forms
from app.services.exports.writing import csv_text_cells
from app.services.inbox import InboxFilter
from app.services.inbox import filter_conditions
from app.services.submissions import storage
from tests.test_inbox import add_submission
from tests.test_inbox import fresh_caches  # noqa: F401 -- an autouse fixture
from tests.test_inbox import make_survey

WINTER = datetime(2025, 1, 15, 9, 30, 5, tzinfo=UTC)
SUMMER = datetime(2025, 7, 15, 9, 30, 5, tzinfo=UTC)
FORMULAS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tindent", "\rreturn"]
FORMULA_CHOICES = [{"value": "plus", "label": '+1, "more"'}, {"value": "m", "label": "M"}]


@pytest.fixture
def exported(app, owner, signed_in):
    """A survey with two submissions (one with a file) and a viewer in Paris to export them."""
    form_id = make_survey(app)
    with app.app_context():
        reference = storage.save_upload(
            form_id, "cv", UploadedFile("cv.pdf", "application/pdf", 4, b"%PDF")
        )
        db.session.commit()
    first = add_submission(
        app,
        form_id,
        {"name": "Ann", "size": "m", "topics": ["art", "cinema"], "age": 41, "agree": True},
        at=WINTER,
        meta={"referrer": "https://site.example/a"},
    )
    second = add_submission(
        app,
        form_id,
        {"name": 'Bo, "the" builder', "message": "Line one\nLine two", "cv": reference},
        at=SUMMER,
        is_starred=True,
    )
    client = signed_in(Role.VIEWER, timezone="Europe/Paris")
    return form_id, client, first, second, reference["file_id"]


def export(client, form_id: int, query: str):
    response = client.get(f"/forms/{form_id}/submissions/export?{query}")
    assert response.status_code == 200
    assert response.is_streamed
    return response


EXPECTED_HEADER = [
    "Submission ID",
    "Received",
    "Version",
    "Your name (name)",
    "T-shirt size (size)",
    "Topics (topics)",
    "How was it? (stars)",
    "Recommend us? (nps)",
    "Age (age)",
    "I agree (agree)",
    "Message (message)",
    "CV (cv)",
    "Starred",
    "Read",
    "Spam reason",
    "Referrer",
    "User agent",
    "Tags",
    "Note",
]


def test_csv_has_labelled_headers_local_iso_times_joined_choices_and_file_links(exported):
    form_id, client, first, second, file_id = exported
    response = export(client, form_id, "format=csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="survey-')
    assert response.headers["X-Export-Rows"] == "2"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == EXPECTED_HEADER
    newest, oldest = rows[1], rows[2]
    assert newest[:4] == [str(second), "2025-07-15T11:30:05+02:00", "1", 'Bo, "the" builder']
    assert newest[10] == "Line one\nLine two"
    assert newest[11] == f"http://localhost/forms/{form_id}/files/{file_id}"
    assert newest[12:14] == ["yes", "no"]
    assert oldest[:7] == [
        str(first),
        "2025-01-15T10:30:05+01:00",
        "1",
        "Ann",
        "Medium",
        "art; cinema",
        "",
    ]
    assert oldest[8:10] == ["41", "yes"]
    assert oldest[15] == "https://site.example/a"


def test_csv_for_excel_starts_with_a_byte_order_mark(exported):
    form_id, client, *_ = exported
    plain = export(client, form_id, "format=csv").data
    excel = export(client, form_id, "format=csv&bom=1").data
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert excel == b"\xef\xbb\xbf" + plain


def test_xlsx_reads_back_with_the_same_cells(exported):
    form_id, client, first, second, file_id = exported
    response = export(client, form_id, "format=xlsx")
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == EXPECTED_HEADER
    assert rows[1][:4] == [second, "2025-07-15T11:30:05+02:00", 1, 'Bo, "the" builder']
    assert rows[1][10] == "Line one\nLine two"
    assert rows[1][11] == f"http://localhost/forms/{form_id}/files/{file_id}"
    assert rows[2][:9] == [
        first,
        "2025-01-15T10:30:05+01:00",
        1,
        "Ann",
        "Medium",
        "art; cinema",
        None,
        None,
        41,
    ]


def test_json_lines_have_native_values(exported):
    form_id, client, first, second, file_id = exported
    response = export(client, form_id, "format=jsonl")
    records = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert [record["id"] for record in records] == [second, first]
    assert records[1]["received_at"] == "2025-01-15T10:30:05+01:00"
    assert records[1]["answers"] == {
        "name": "Ann",
        "size": "m",
        "topics": ["art", "cinema"],
        "age": 41,
        "agree": True,
    }
    assert records[0]["answers"]["cv"] == {
        "name": "cv.pdf",
        "size": 4,
        "content_type": "application/pdf",
        "url": f"http://localhost/forms/{form_id}/files/{file_id}",
    }
    assert records[0]["starred"] is True


def test_exports_follow_the_filter(exported):
    form_id, client, _first, second, _ = exported
    response = export(client, form_id, "format=jsonl&starred=1")
    assert [json.loads(line)["id"] for line in response.get_data(as_text=True).splitlines()] == [
        second
    ]
    assert response.headers["X-Export-Rows"] == "1"
    assert export(client, form_id, "format=csv&q=nothing-like-it").get_data(as_text=True) == (
        ",".join(EXPECTED_HEADER) + "\r\n"
    )


def test_an_unknown_format_is_not_found(exported):
    form_id, client, *_ = exported
    assert client.get(f"/forms/{form_id}/submissions/export?format=pdf").status_code == 404


@pytest.fixture
def formula_exports(app, owner, signed_in):
    """A built form and an endpoint form whose answers, labels and referrer are formulas."""
    fields = [{"key": "note", "type": "short_text", "label": '=HYPERLINK("x")'}]
    built = make_survey(app, fields, slug="formulas")
    with app.app_context():
        endpoint = forms.create_form(None, title="Site", slug="site", kind="endpoint")
        forms.publish(endpoint, None)
        endpoint_id = endpoint.id
    for text in FORMULAS:
        add_submission(app, built, {"note": text}, meta={"referrer": text})
        add_submission(app, endpoint_id, {"=field": text, "list": [text, "ok"]})
    with app.app_context():
        from app.models import EndpointKey

        for key in ("=field", "list"):
            db.session.add(EndpointKey(form_id=endpoint_id, key=key))
        db.session.commit()
    return built, endpoint_id, signed_in(Role.VIEWER)


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_cells_a_spreadsheet_would_run_are_neutralised(formula_exports, export_format):
    built, endpoint_id, client = formula_exports
    cells = []
    for form_id in (built, endpoint_id):
        data = export(client, form_id, f"format={export_format}").data
        if export_format == "csv":
            rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
        else:
            sheet = load_workbook(io.BytesIO(data)).active
            rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
            assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
        cells += [cell for row in rows for cell in row if isinstance(cell, str)]
    dangerous = [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert dangerous == []
    assert '\'=HYPERLINK("x") (note)' in cells
    assert "'=field (=field)" in cells
    assert cells.count("'=1+1") == 3  # the built answer, its referrer and the endpoint answer
    assert "'@cmd; ok" in cells


# --- the fast exporter against the registry, cell by cell -----------------------------------

EVERY_TYPE = [
    {"key": "name", "type": "short_text", "label": "Name"},
    {"key": "bio", "type": "long_text", "label": "Bio"},
    {"key": "email", "type": "email", "label": "Email"},
    {"key": "price", "type": "number", "label": "Price"},
    {"key": "phone", "type": "phone", "label": "Phone"},
    {"key": "site", "type": "url", "label": "Site"},
    {"key": "day", "type": "date", "label": "Day"},
    {"key": "at", "type": "time", "label": "At"},
    {
        "key": "size",
        "type": "single_choice",
        "label": "Size",
        "rules": {"choices": FORMULA_CHOICES},
    },
    {
        "key": "country",
        "type": "dropdown",
        "label": "Country",
        "rules": {"choices": ["Chad", "Peru"]},
    },
    {
        "key": "topics",
        "type": "multiple_choice",
        "label": "Topics",
        "rules": {"choices": ["a", "b"]},
    },
    {"key": "agree", "type": "consent", "label": "Agree", "rules": {"style": "yes_no"}},
    {"key": "stars", "type": "rating", "label": "Stars"},
    {"key": "nps", "type": "rating", "label": "NPS", "rules": {"scale": "nps"}},
    {"key": "cv", "type": "file", "label": "CV"},
    {"key": "source", "type": "hidden", "label": "Source"},
    {"key": "old", "type": "short_text", "label": "Removed later"},
]


def reference_rows(plan, submissions) -> list[list]:
    """The exporter as it was before it was made fast: the registry's answer_csv_cell for each
    cell of each row, times through datetime, metadata from the decoded JSON."""
    rows = []
    for submission in submissions:
        cells = [
            submission.id,
            plan.time(submission.created_at),
            plan.version_number(submission.version_id),
        ]
        for column in plan.columns:
            value = submission.answers.get(column.key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                cells.append(value)
            else:
                spec = plan.spec(submission.version_id, column)
                cells.append(answer_csv_cell(value, spec, plan.context))
        meta = submission.meta or {}
        cells += [
            "yes" if submission.is_starred else "no",
            "yes" if submission.is_read else "no",
            submission.spam_reason or "",
            escape_formula(meta.get("referrer", "")),
            escape_formula(meta.get("user_agent", "")),
            escape_formula(", ".join(tag.name for tag in submission.tags)),
            escape_formula(submission.note.text if submission.note else ""),
        ]
        rows.append(cells)
    return rows


@pytest.fixture
def every_type(app, owner):
    """A form with every field type over two versions (the second drops a field), answered
    with formulas, odd characters, files, numbers, and answers that no longer fit."""
    form_id = make_survey(app, EVERY_TYPE, slug="every-type")
    with app.app_context():
        reference = storage.save_upload(
            form_id, "cv", UploadedFile("cv.pdf", "application/pdf", 4, b"%PDF")
        )
        db.session.commit()
    first = {
        "name": "=cmd|' /C calc'!A0",
        "bio": 'Line one,\r\n"quoted", and <tags> & more',
        "email": "+x@example.com",
        "price": 12.5,
        "phone": "-44 20",
        "site": "https://example.org/?a=1,2",
        "day": "2025-02-03",
        "at": "09:30",
        "size": "plus",
        "country": "Peru",
        "topics": ["a", "@b", "gone"],
        "agree": False,
        "stars": 4,
        "nps": 0,
        "cv": reference,
        "source": "\tad",
        "old": "@old",
    }
    add_submission(
        app, form_id, first, at=WINTER, meta={"referrer": "=evil", "user_agent": "UA, 1"}
    )
    with app.app_context():
        form = db.session.get(Form, form_id)
        forms.save_fields(form, EVERY_TYPE[:-1])
        forms.publish(form, None)
    misfits = {"size": ["m", "x"], "topics": "ab", "stars": "five", "agree": "yes", "price": 3}
    add_submission(app, form_id, misfits, at=SUMMER, is_read=True, is_starred=True)
    add_submission(app, form_id, {"name": "Zoë 💡", "price": 1e16, "bio": ""}, at=SUMMER)
    # Equal as keys, not as cells: -0.0 and 0.0, True and 1.
    add_submission(app, form_id, {"price": -0.0, "agree": 1, "stars": True}, at=SUMMER)
    add_submission(app, form_id, {"price": 0.0, "agree": True, "stars": 1}, at=SUMMER)
    add_submission(app, form_id, {"name": "\rX", "nps": 10, "agree": True}, at=WINTER, is_spam=True)
    return form_id


def expected_export(app, form_id: int, zone: str, chosen: InboxFilter):
    with app.test_request_context():
        form = db.session.get(Form, form_id)
        plan = exports.plan_export(form, ZoneInfo(zone), "http://localhost/files/")
        conditions = filter_conditions(form, chosen, ZoneInfo(zone))
        submissions = db.session.scalars(
            select(Submission)
            .where(*conditions)
            .order_by(Submission.created_at.desc(), Submission.id.desc())
        ).all()
        return exports.header(plan), reference_rows(plan, submissions)


def as_read_from_xml(cell):
    """A cell as a reader gets it back: empty as None, line ends as XML parsers make them."""
    if cell == "":
        return None
    return cell.replace("\r\n", "\n").replace("\r", "\n") if isinstance(cell, str) else cell


def fast_export(app, form_id: int, zone: str, chosen: InboxFilter, export_format: str) -> bytes:
    with app.test_request_context():
        form = db.session.get(Form, form_id)
        plan = exports.plan_export(form, ZoneInfo(zone), "http://localhost/files/")
        return b"".join(exports.stream_export(plan, chosen, export_format))


FILTERS = {
    "inbox": InboxFilter(),
    "spam": InboxFilter(folder="spam"),
    "dates": InboxFilter(since=date(2025, 7, 1), until=date(2025, 7, 31)),
    "choice": InboxFilter(choices=(("country", ("Peru",)),)),
    "search": InboxFilter(query="Zoë"),
    "flags": InboxFilter(starred=True, read="read"),
}


def reference_csv(app, form_id: int, zone: str, chosen: InboxFilter) -> bytes:
    head, rows = expected_export(app, form_id, zone, chosen)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(head)
    writer.writerows(rows)
    return buffer.getvalue().encode()


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "Asia/Kolkata", "America/St_Johns"])
def test_fast_csv_is_byte_for_byte_the_registry_s_cells(app, every_type, zone):
    expected = reference_csv(app, every_type, zone, InboxFilter())
    assert expected.count(b"\r\n") > 5  # the header and five rows, some with line breaks
    assert fast_export(app, every_type, zone, InboxFilter(), "csv") == expected


@pytest.mark.parametrize("name", FILTERS)
def test_fast_csv_follows_every_filter_as_the_registry_would(app, every_type, name):
    expected = reference_csv(app, every_type, "Europe/Paris", FILTERS[name])
    assert fast_export(app, every_type, "Europe/Paris", FILTERS[name], "csv") == expected
    assert expected.count(b"\n") > 1, "the filter matches something"


def test_fast_xlsx_and_json_lines_hold_the_same_values(app, every_type):
    chosen = InboxFilter()
    head, rows = expected_export(app, every_type, "Europe/Paris", chosen)
    data = fast_export(app, every_type, "Europe/Paris", chosen, "xlsx")
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert cells == [[as_read_from_xml(cell) for cell in row] for row in [head, *rows]]
    records = [
        json.loads(line)
        for line in fast_export(app, every_type, "UTC", chosen, "jsonl").splitlines()
    ]
    assert [record["id"] for record in records] == [row[0] for row in rows]
    assert records[-1]["answers"]["topics"] == ["a", "@b", "gone"]
    assert records[-1]["answers"]["agree"] is False
    assert records[-1]["answers"]["cv"]["url"].startswith("http://localhost/files/")
    assert records[-1]["referrer"] == "=evil"
    by_name = {record["answers"].get("name"): record for record in records}
    assert by_name["Zoë 💡"]["answers"]["price"] == 1e16
    assert [record["answers"]["price"] for record in records[:2]] == [0.0, -0.0]


def test_csv_fields_are_quoted_as_the_csv_module_quotes_them():
    samples = ["", "plain", "a,b", 'say "hi"', "line\nbreak", "cr\rhere", " space", "'", "é,€"]
    for text in samples:
        buffer = io.StringIO()
        csv.writer(buffer).writerow([text, "x"])
        assert exports.csv_field(text) + ",x\r\n" == buffer.getvalue(), text


TRICKY_TEXT = [
    "=1+1",
    "+33 6 12",
    "-5",
    "@SUM(A1)",
    "\tx",
    "\rx",
    'say "hi"',
    "a,b",
    "two\nlines",
    "cr\rinside",
    "",
    "plain",
    "x\x1f=y",
]


@pytest.mark.parametrize("tricky", TRICKY_TEXT)
def test_a_batch_of_text_cells_is_written_as_each_cell_would_be(tricky):
    """The batch path (long columns of unique answers) quotes and neutralises exactly as a
    spreadsheet reader needs: read back, every cell is the neutralised answer."""
    batch = [f"person{n}@example.org" for n in range(50)] + [tricky]
    line = ",".join(csv_text_cells(batch))
    assert next(csv.reader(io.StringIO(line, newline=""))) == [escape_formula(v) for v in batch]


def test_a_clean_batch_of_text_comes_back_as_it_is():
    batch = [f"person{n}@example.org" for n in range(50)]
    assert csv_text_cells(batch) == batch
