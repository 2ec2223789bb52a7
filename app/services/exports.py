"""Exports of the current filter as CSV, Excel (.xlsx) or JSON Lines, streamed as produced.

Rows are read in keyset batches and written out batch by batch, so memory stays flat however
many there are. Headers are the labels with the keys; times are ISO 8601 with the user's zone;
files are links. In CSV and Excel every cell that a spreadsheet would run as a formula is
neutralised: answers by the field registry, the cells written here by ``escape_formula``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy import tuple_

from app.extensions import db
from app.fields import ExportContext
from app.fields import FieldSpec
from app.fields import answer_csv_cell
from app.fields import answer_json_value
from app.fields.base import escape_formula
from app.models import Form
from app.models import Submission
from app.services import xlsx
from app.services.inbox import Column
from app.services.inbox import InboxFilter
from app.services.inbox import columns_for
from app.services.inbox import filter_conditions
from app.services.inbox import versions_of

Format = Literal["csv", "xlsx", "jsonl"]
FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "jsonl": ("application/x-ndjson; charset=utf-8", "jsonl"),
}
BATCH = 2000
BOM = "\ufeff"
FIXED_HEADER = ["Submission ID", "Received", "Version"]
TRAILING_HEADER = ["Starred", "Read", "Spam reason", "Referrer", "User agent"]


@dataclass(frozen=True)
class ExportPlan:
    """What every row of one export needs: its columns, each version's fields, the file link."""

    form: Form
    columns: list[Column]
    versions: dict[int, tuple[int, dict[str, FieldSpec]]]
    zone: ZoneInfo
    context: ExportContext

    def spec(self, version_id: int | None, column: Column) -> FieldSpec | None:
        if version_id in self.versions:
            return self.versions[version_id][1].get(column.key, column.spec)
        return column.spec

    def version_number(self, version_id: int | None) -> int | None:
        return self.versions[version_id][0] if version_id in self.versions else None

    def time(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).isoformat(timespec="seconds")


def plan_export(form: Form, zone: ZoneInfo, file_url_prefix: str) -> ExportPlan:
    """``file_url_prefix`` + a file's id is the link to download it."""
    versions = versions_of(form)
    return ExportPlan(
        form=form,
        columns=columns_for(form, versions),
        versions=versions,
        zone=zone,
        context=ExportContext(file_url=lambda ref: f"{file_url_prefix}{ref['file_id']}"),
    )


def header(plan: ExportPlan) -> list[str]:
    """Labels with keys; a label is the builder's text, so it is neutralised like an answer."""
    labels = [escape_formula(f"{column.label} ({column.key})") for column in plan.columns]
    return FIXED_HEADER + labels + TRAILING_HEADER


_ROW_COLUMNS = (
    Submission.id,
    Submission.created_at,
    Submission.version_id,
    Submission.answers,
    Submission.meta,
    Submission.is_starred,
    Submission.is_read,
    Submission.spam_reason,
)


def rows_in_batches(plan: ExportPlan, chosen: InboxFilter) -> Iterator[list[Any]]:
    """Matching rows newest first, ``BATCH`` at a time, each batch its own short query."""
    query = select(*_ROW_COLUMNS).where(*filter_conditions(plan.form, chosen, plan.zone))
    order = (Submission.created_at.desc(), Submission.id.desc())
    place = None
    while True:
        batch_query = (
            query
            if place is None
            else query.where(tuple_(Submission.created_at, Submission.id) < place)
        )
        rows = db.session.execute(batch_query.order_by(*order).limit(BATCH)).all()
        if not rows:
            return
        yield rows
        place = (rows[-1].created_at, rows[-1].id)
        # Let the batch's objects go: a long export must not fill the session.
        db.session.expire_all()


def spreadsheet_row(plan: ExportPlan, row: Any) -> list[Any]:
    """One row for CSV or Excel: text cells neutralised, numbers left as numbers."""
    answers = row.answers
    cells: list[Any] = [row.id, plan.time(row.created_at), plan.version_number(row.version_id)]
    for column in plan.columns:
        value = answers.get(column.key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            cells.append(value)
        else:
            cells.append(answer_csv_cell(value, plan.spec(row.version_id, column), plan.context))
    meta = row.meta or {}
    cells += [
        "yes" if row.is_starred else "no",
        "yes" if row.is_read else "no",
        row.spam_reason or "",
        escape_formula(meta.get("referrer", "")),
        escape_formula(meta.get("user_agent", "")),
    ]
    return cells


def json_record(plan: ExportPlan, row: Any) -> dict[str, Any]:
    answers = {
        column.key: answer_json_value(
            row.answers.get(column.key), plan.spec(row.version_id, column), plan.context
        )
        for column in plan.columns
        if column.key in row.answers
    }
    meta = row.meta or {}
    return {
        "id": row.id,
        "received_at": plan.time(row.created_at),
        "version": plan.version_number(row.version_id),
        "answers": answers,
        "starred": row.is_starred,
        "read": row.is_read,
        "spam_reason": row.spam_reason,
        "referrer": meta.get("referrer"),
        "user_agent": meta.get("user_agent"),
    }


def stream_csv(plan: ExportPlan, chosen: InboxFilter, *, bom: bool = False) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if bom:
        buffer.write(BOM)
    writer.writerow(header(plan))
    for rows in rows_in_batches(plan, chosen):
        writer.writerows(spreadsheet_row(plan, row) for row in rows)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue().encode()


def stream_jsonl(plan: ExportPlan, chosen: InboxFilter) -> Iterator[bytes]:
    for rows in rows_in_batches(plan, chosen):
        lines = (json.dumps(json_record(plan, row), ensure_ascii=False) for row in rows)
        yield ("\n".join(lines) + "\n").encode()


def stream_xlsx(plan: ExportPlan, chosen: InboxFilter) -> Iterator[bytes]:
    batches = (
        [spreadsheet_row(plan, row) for row in rows] for rows in rows_in_batches(plan, chosen)
    )
    yield from xlsx.stream_workbook(header(plan), batches)


def stream_export(
    plan: ExportPlan, chosen: InboxFilter, export_format: str, *, bom: bool = False
) -> Iterator[bytes]:
    if export_format == "xlsx":
        return stream_xlsx(plan, chosen)
    if export_format == "jsonl":
        return stream_jsonl(plan, chosen)
    return stream_csv(plan, chosen, bom=bom)


def export_filename(form: Form, export_format: str, now: datetime) -> str:
    return f"{form.slug}-submissions-{now:%Y%m%d-%H%M}.{FORMATS[export_format][1]}"
