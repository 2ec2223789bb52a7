"""Exports of the In progress folder as CSV, Excel (.xlsx) or JSON Lines: the partial
responses newest touched first, each with when it started, when it was last touched and the
page it has reached, then its answers so far in the submissions' columns.

Rows are read and written in batches from one query, as the submissions' export does, through
the same plan (each version's cell functions from the field registry, so a formula in an
answer or a page title is neutralised the same way). Partial responses are far fewer than
submissions, so a row is written cell by cell rather than a column at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.fields.base import escape_formula
from app.models import Form
from app.models import PartialResponse
from app.services.exports import xlsx
from app.services.exports.streaming import BATCH
from app.services.exports.streaming import BOM
from app.services.exports.streaming import FORMATS
from app.services.exports.streaming import ExportPlan
from app.services.exports.streaming import decode_answers
from app.services.exports.streaming import json_line
from app.services.exports.streaming import written_each
from app.services.exports.writing import CSV
from app.services.exports.writing import XLSX
from app.services.exports.writing import Encoding
from app.services.exports.writing import csv_field
from app.services.inbox.progress import reached_at
from app.services.inbox.progress import unexpired
from app.services.submissions.row_text import decode_json
from app.services.submissions.row_text import json_text
from app.services.submissions.row_text import raw_batches
from app.services.submissions.row_text import utc_text

FIXED_HEADER = ["Started", "Last touched", "Version", "Page reached"]
TRAILING_HEADER = ["Expires"]


def partials_header(plan: ExportPlan) -> list[str]:
    labels = [escape_formula(f"{column.label} ({column.key})") for column in plan.columns]
    return FIXED_HEADER + labels + TRAILING_HEADER


def partial_batches(plan: ExportPlan, now: datetime | None = None) -> Iterator[list[Any]]:
    """The form's unexpired partial responses, newest touched first, ``BATCH`` at a time."""
    query = (
        select(
            utc_text(PartialResponse.created_at, "second"),
            utc_text(PartialResponse.updated_at, "second"),
            PartialResponse.version_id,
            json_text(PartialResponse.path),
            json_text(PartialResponse.answers),
            utc_text(PartialResponse.expires_at, "second"),
        )
        .where(*unexpired(plan.form, now))
        .order_by(PartialResponse.updated_at.desc(), PartialResponse.id.desc())
    )
    return raw_batches(query, BATCH)


def _page_of(version_id: int, path_text: str | None):
    path = decode_json(path_text)
    return reached_at(version_id, path[-1] if isinstance(path, list) and path else None)


def encoded_row(plan: ExportPlan, row: tuple, encoding: Encoding) -> str:
    started, touched, version_id, path_text, answers_text, expires = row
    answers = decode_answers(answers_text)
    number = plan.version_number(version_id)
    cells = [
        encoding.time(plan.times.iso(started)),
        encoding.time(plan.times.iso(touched)),
        encoding.empty if number is None else encoding.number(number),
        encoding.text(escape_formula(str(_page_of(version_id, path_text)))),
    ]
    writers = plan.writers(version_id, encoding)
    cells += [
        writer.written(answers.get(column.key))
        for column, writer in zip(plan.columns, writers, strict=True)
    ]
    cells.append(encoding.time(plan.times.iso(expires)))
    return encoding.start + encoding.separator.join(cells) + encoding.end


def json_record(plan: ExportPlan, row: tuple) -> dict[str, Any]:
    """One partial response; its answers just as stored so far: a question not reached is
    absent, one left blank is null, as in a submission's record."""
    started, touched, version_id, path_text, answers_text, expires = row
    answers = decode_answers(answers_text)
    page = _page_of(version_id, path_text)
    path = decode_json(path_text)
    return {
        "started_at": plan.times.iso(started),
        "last_touched_at": plan.times.iso(touched),
        "version": plan.version_number(version_id),
        "page_reached": {"id": page.id, "title": page.title, "number": page.number},
        "pages": page.of,
        "path": path if isinstance(path, list) else [],
        "answers": {
            key: value(answers[key])
            for key, value in plan.json_values(version_id)
            if key in answers
        },
        "expires_at": plan.times.iso(expires),
    }


def _json_lines(plan: ExportPlan, rows: list[tuple]) -> bytes:
    return b"".join(json_line(json_record(plan, row)) for row in rows)


def _csv_lines(plan: ExportPlan, rows: list[tuple]) -> bytes:
    return "".join(encoded_row(plan, row, CSV) for row in rows).encode()


def stream_partials(plan: ExportPlan, export_format: str, *, bom: bool = False) -> Iterator[bytes]:
    """The In progress folder in ``export_format``, streamed as it is read."""
    if export_format == "jsonl":
        yield from written_each(partial_batches(plan), lambda rows: _json_lines(plan, rows))
    elif export_format == "xlsx":
        batches = written_each(
            partial_batches(plan), lambda rows: [encoded_row(plan, row, XLSX) for row in rows]
        )
        yield from xlsx.stream_workbook(partials_header(plan), batches, "In progress")
    else:
        head = ",".join(map(csv_field, partials_header(plan))) + CSV.end
        yield ((BOM if bom else "") + head).encode()
        yield from written_each(partial_batches(plan), lambda rows: _csv_lines(plan, rows))


def partials_filename(form: Form, export_format: str, now: datetime) -> str:
    return f"{form.slug}-in-progress-{now:%Y%m%d-%H%M}.{FORMATS[export_format][1]}"
