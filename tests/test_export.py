"""Exports: CSV, Excel and JSON Lines of the current filter, read back with real readers."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC
from datetime import datetime

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.fields import UploadedFile
from app.models import Role
from app.services import forms
from app.services import storage
from tests.test_inbox import add_submission
from tests.test_inbox import fresh_caches  # noqa: F401 -- an autouse fixture
from tests.test_inbox import make_survey
from tests.test_inbox import signed_in

WINTER = datetime(2025, 1, 15, 9, 30, 5, tzinfo=UTC)
SUMMER = datetime(2025, 7, 15, 9, 30, 5, tzinfo=UTC)
FORMULAS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tindent", "\rreturn"]


@pytest.fixture
def exported(app, owner):
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
    client = signed_in(app, Role.VIEWER, "Europe/Paris")
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
def formula_exports(app, owner):
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
    return built, endpoint_id, signed_in(app, Role.VIEWER)


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
