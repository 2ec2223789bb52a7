"""Exports of the current filter as CSV, Excel (.xlsx) or JSON Lines, streamed as produced.

Rows come from one query read in batches (a server-side cursor on PostgreSQL), and are written
out batch by batch, so memory stays flat however many there are. Headers are the labels with
the keys; times are ISO 8601 with the user's zone; files are links. In CSV and Excel every cell
that a spreadsheet would run as a formula is neutralised: answers by the field registry, the
cells written here by ``escape_formula``.

A million rows take seconds, so the work per row is kept small. The rows come straight from
the database driver (``raw_batches``): answers and metadata as JSON text (decoded by orjson),
the time as UTC text (put into the user's zone with an offset worked out once per hour). Each
column's cell function comes from the registry once per form version (``csv_cell_function``)
and gives what ``answer_csv_cell`` would; export_writing writes the cells a column at a time.
Tests compare the output byte for byte with the registry's cells written by ``csv.writer``.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from itertools import repeat
from typing import Any
from typing import Literal
from typing import TypeVar
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import select

from app.database import is_postgresql
from app.extensions import db
from app.fields import FIELD_TYPES
from app.fields import ExportContext
from app.fields import FieldSpec
from app.fields import answer_json_value
from app.fields.base import escape_formula
from app.fields.exports import MISFIT
from app.fields.exports import csv_cell_any
from app.models import Form
from app.models import Submission
from app.models import SubmissionNote
from app.models import SubmissionTag
from app.models import Tag
from app.services.audit.recording import record
from app.services.exports import xlsx
from app.services.exports.writing import CSV
from app.services.exports.writing import XLSX
from app.services.exports.writing import ColumnWriter
from app.services.exports.writing import Encoding
from app.services.exports.writing import LocalTimes
from app.services.exports.writing import TrailingWriter
from app.services.exports.writing import csv_field
from app.services.inbox.columns import Column
from app.services.inbox.columns import columns_for
from app.services.inbox.columns import versions_of
from app.services.inbox.filters import InboxFilter
from app.services.inbox.filters import filter_conditions
from app.services.submissions.row_text import decode_json
from app.services.submissions.row_text import json_text
from app.services.submissions.row_text import raw_batches
from app.services.submissions.row_text import utc_text

T = TypeVar("T")
Format = Literal["csv", "xlsx", "jsonl"]
FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "jsonl": ("application/x-ndjson; charset=utf-8", "jsonl"),
}
BATCH = 2000
BOM = "\ufeff"
FIXED_HEADER = ["Submission ID", "Received", "Version"]
TRAILING_HEADER = ["Starred", "Read", "Spam reason", "Referrer", "User agent", "Tags", "Note"]
Cells = list[tuple[str, Callable[[Any], Any]]]


@dataclass(frozen=True)
class ExportPlan:
    """What every row of one export needs: its columns, each version's fields, the file link,
    and (made once, used for every row) each column's cell function per version."""

    form: Form
    columns: list[Column]
    versions: dict[int, tuple[int, dict[str, FieldSpec]]]
    zone: ZoneInfo
    context: ExportContext
    times: LocalTimes = field(init=False, compare=False)
    _made: dict[Any, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "times", LocalTimes(self.zone))

    def spec(self, version_id: int | None, column: Column) -> FieldSpec | None:
        if version_id in self.versions:
            return self.versions[version_id][1].get(column.key, column.spec)
        return column.spec

    def version_number(self, version_id: int | None) -> int | None:
        return self.versions[version_id][0] if version_id in self.versions else None

    def time(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).isoformat(timespec="seconds")

    def _once(self, key: Any, make: Callable[[], Any]) -> Any:
        found = self._made.get(key)
        if found is None:
            found = self._made[key] = make()
        return found

    def writers(self, version_id: int | None, encoding: Encoding) -> list[ColumnWriter]:
        """Each column's writer for answers given under ``version_id``."""
        return self._once(
            ("writers", encoding, version_id),
            lambda: [
                ColumnWriter(cell, self.context, encoding)
                for _key, cell in self.csv_cells(version_id)
            ],
        )

    def csv_cells(self, version_id: int | None) -> Cells:
        """Each column's key and registry cell function for answers given under ``version_id``."""
        return self._once(
            ("csv", version_id),
            lambda: [
                (column.key, _csv_cell_function(self.spec(version_id, column), self.context))
                for column in self.columns
            ],
        )

    def json_values(self, version_id: int | None) -> Cells:
        return self._once(
            ("json", version_id),
            lambda: [
                (column.key, _json_value_function(self.spec(version_id, column), self.context))
                for column in self.columns
            ],
        )

    def encoded_versions(self, encoding: Encoding) -> dict[int | None, str]:
        """Each version id's number, written."""
        return self._once(
            ("versions", encoding),
            lambda: {
                version_id: encoding.number(number)
                for version_id, (number, _specs) in self.versions.items()
            },
        )

    def trailing(self, encoding: Encoding) -> TrailingWriter:
        return self._once(("trailing", encoding), lambda: TrailingWriter(encoding))


def _csv_cell_function(spec: FieldSpec | None, context: ExportContext) -> Callable[[Any], Any]:
    field_type = None if spec is None else FIELD_TYPES.get(spec.type)
    if field_type is None:
        return lambda value: csv_cell_any(value, context)
    return field_type.csv_cell_function(spec, context)


def _json_value_function(spec: FieldSpec | None, context: ExportContext) -> Callable[[Any], Any]:
    field_type = None if spec is None else FIELD_TYPES.get(spec.type)
    if field_type is None:
        return lambda value: answer_json_value(value, spec, context)
    json_value = field_type.json_value_function(spec, context)

    def value_of(value: Any) -> Any:
        if value is None:
            return None
        try:
            return json_value(value)
        except MISFIT:
            return answer_json_value(value, None, context)

    return value_of


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


def _row_columns() -> tuple:
    """What a row needs, as the database can hand it over fastest: texts rather than objects."""
    return (
        Submission.id,
        utc_text(Submission.created_at, "second"),
        Submission.version_id,
        json_text(Submission.answers),
        json_text(Submission.meta),
        Submission.is_starred,  # 0 or 1 from SQLite's driver, a bool from PostgreSQL's
        Submission.is_read,
        Submission.spam_reason,
        tags_text(),
        note_text(),
    )


def tags_text():
    """A row's tags as one text, "a,b" (a tag holds no comma), read from the
    (submission_id, tag_id) key; None when it has none."""
    names = (
        func.string_agg(Tag.name, literal_column("','"))
        if is_postgresql()
        else func.group_concat(Tag.name, ",")
    )
    return (
        select(names)
        .select_from(SubmissionTag)
        .join(Tag, Tag.id == SubmissionTag.tag_id)
        .where(SubmissionTag.submission_id == Submission.id)
        .scalar_subquery()
    )


def note_text():
    return (
        select(SubmissionNote.text)
        .where(SubmissionNote.submission_id == Submission.id)
        .scalar_subquery()
    )


def tag_list(text: str | None) -> list[str]:
    return sorted(text.split(",")) if text else []


def rows_in_batches(plan: ExportPlan, chosen: InboxFilter) -> Iterator[list[Any]]:
    """Matching rows newest first, ``BATCH`` at a time, from one query read as it goes."""
    query = (
        select(*_row_columns())
        .where(*filter_conditions(plan.form, chosen, plan.zone))
        .order_by(Submission.created_at.desc(), Submission.id.desc())
    )
    return raw_batches(query, BATCH)


def encoded_rows(plan: ExportPlan, rows: list[Any], encoding: Encoding) -> list[str]:
    """Each row written as one CSV line or one spreadsheet row, a column at a time (see
    export_writing: per cell, most of the work is done in C)."""
    ids, received, version_ids, answer_texts, metas, starred, read, reasons, tags, notes = zip(
        *rows, strict=True
    )
    answers = decode_all(answer_texts)
    versions = plan.encoded_versions(encoding)
    first = map(encoding.number, ids)
    columns: list[Iterable[str]] = [
        map(encoding.start.__add__, first) if encoding.start else first,
        map(encoding.time, plan.times.iso_all(received)),
        map(versions.get, version_ids, repeat(encoding.empty)),
    ]
    if len(set(version_ids)) == 1:
        writers = plan.writers(version_ids[0], encoding)
        for column, writer in zip(plan.columns, writers, strict=True):
            columns.append(writer.write(list(map(dict.get, answers, repeat(column.key)))))
    else:
        for index, column in enumerate(plan.columns):
            columns.append(
                [
                    plan.writers(version_id, encoding)[index].written(row.get(column.key))
                    for version_id, row in zip(version_ids, answers, strict=True)
                ]
            )
    columns.append(plan.trailing(encoding).write(starred, read, reasons, metas, tags, notes))
    return list(map(encoding.separator.join, zip(*columns, strict=True)))


def decode_answers(text: str | None) -> dict[str, Any]:
    answers = decode_json(text)
    return answers if isinstance(answers, dict) else {}


def decode_all(texts: Iterable[str | None]) -> list[dict[str, Any]]:
    """Stored answers, decoded; each a dict."""
    try:
        answers = list(map(orjson.loads, texts))
    except (orjson.JSONDecodeError, TypeError):
        return [decode_answers(text) for text in texts]
    if set(map(type, answers)) == {dict}:
        return answers
    return [found if type(found) is dict else {} for found in answers]


def json_records(plan: ExportPlan, rows: list[Any]) -> Iterator[dict[str, Any]]:
    times = plan.times.iso_all([row[1] for row in rows])
    for row, time in zip(rows, times, strict=True):
        row_id, _, version_id, answers_text, meta_text, starred, read, reason, tags, note = row
        answers = decode_answers(answers_text)
        meta = decode_answers(meta_text)
        yield {
            "id": row_id,
            "received_at": time,
            "version": plan.version_number(version_id),
            "answers": {
                key: value(answers[key])
                for key, value in plan.json_values(version_id)
                if key in answers
            },
            "starred": bool(starred),
            "read": bool(read),
            "spam_reason": reason,
            "referrer": meta.get("referrer"),
            "user_agent": meta.get("user_agent"),
            "path": meta.get("path"),
            "tags": tag_list(tags),
            "note": note,
        }


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while one batch is read and written. A batch makes tens
    of thousands of short-lived objects without cycles, which reference counting frees as it
    goes; the collector would otherwise scan the young ones every 700 allocations, which took
    a third of an export's time. It runs again between batches."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def written_batches(
    plan: ExportPlan, chosen: InboxFilter, write: Callable[[list[Any]], T]
) -> Iterator[T]:
    """``write`` of each batch of matching rows, each batch read and written in one go."""
    return written_each(rows_in_batches(plan, chosen), write)


def written_each(batches: Iterator[list[Any]], write: Callable[[list[Any]], T]) -> Iterator[T]:
    """``write`` of each batch, each read and written in one go with the collector paused."""
    try:
        while True:
            with collector_paused():
                rows = next(batches, None)
                written = None if rows is None else write(rows)
            if rows is None:
                return
            yield written
    finally:
        batches.close()


def stream_csv(plan: ExportPlan, chosen: InboxFilter, *, bom: bool = False) -> Iterator[bytes]:
    head = ",".join(map(csv_field, header(plan))) + CSV.end
    yield ((BOM if bom else "") + head).encode()
    yield from written_batches(
        plan, chosen, lambda rows: "".join(encoded_rows(plan, rows, CSV)).encode()
    )


def stream_jsonl(plan: ExportPlan, chosen: InboxFilter) -> Iterator[bytes]:
    yield from written_batches(
        plan, chosen, lambda rows: b"".join(map(json_line, json_records(plan, rows)))
    )


def json_line(record: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # an integer beyond 64 bits
        return (json.dumps(record, ensure_ascii=False) + "\n").encode()


def stream_xlsx(plan: ExportPlan, chosen: InboxFilter) -> Iterator[bytes]:
    batches = written_batches(plan, chosen, lambda rows: encoded_rows(plan, rows, XLSX))
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


def record_export(
    form: Form, export_format: str, *, rows: int | None, partial: bool = False
) -> None:
    """Audit that someone took the form's submissions (or partial responses) away, and commit:
    the export itself changes nothing, so the entry is a transaction of its own."""
    action = "export.partials" if partial else "export.submissions"
    record(action, form, details={"format": export_format, "rows": rows})
    db.session.commit()
