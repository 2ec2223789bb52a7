"""Reading the audit log: the owners' page (filters, keyset pages), its exports, and its own
retention."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import Select
from sqlalchemy import delete
from sqlalchemy import select

from app.extensions import db
from app.fields.base import escape_formula
from app.models import AuditEntry
from app.models.types import utcnow

PAGE_SIZE = 50
EXPORT_BATCH = 1000
PURGE_BATCH = 5000
SYSTEM_ACTOR = "system"
COLUMNS = (
    "id",
    "time",
    "actor_kind",
    "actor_user_id",
    "actor",
    "action",
    "target_kind",
    "target_id",
    "target",
    "form_id",
    "outcome",
    "address",
    "request_id",
    "details",
)


@dataclass(frozen=True)
class AuditFilter:
    """The page's filters. ``actor`` is a user id or "system"; ``action`` an exact name or a
    prefix ending in a dot (``form.``); ``since`` and ``until`` are UTC moments."""

    actor: str = ""
    action: str = ""
    form_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None

    @property
    def is_empty(self) -> bool:
        return self == AuditFilter()


def _filtered(chosen: AuditFilter) -> Select:
    query = select(AuditEntry)
    if chosen.actor == SYSTEM_ACTOR:
        query = query.where(AuditEntry.actor_user_id.is_(None))
    elif chosen.actor.isdigit():
        query = query.where(AuditEntry.actor_user_id == int(chosen.actor))
    if chosen.action.endswith("."):
        query = query.where(AuditEntry.action.startswith(chosen.action, autoescape=True))
    elif chosen.action:
        query = query.where(AuditEntry.action == chosen.action)
    if chosen.form_id is not None:
        query = query.where(AuditEntry.form_id == chosen.form_id)
    if chosen.since is not None:
        query = query.where(AuditEntry.created_at >= chosen.since)
    if chosen.until is not None:
        query = query.where(AuditEntry.created_at < chosen.until)
    return query


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    next_before: int | None  # the ``before`` of the next (older) page, if there is one


def page_of(chosen: AuditFilter, before: int | None = None, size: int = PAGE_SIZE) -> AuditPage:
    """Entries matching ``chosen``, newest first, older than entry ``before``."""
    query = _filtered(chosen)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    rows = list(db.session.scalars(query.order_by(AuditEntry.id.desc()).limit(size + 1)))
    more = len(rows) > size
    entries = rows[:size]
    return AuditPage(entries, entries[-1].id if more else None)


def known_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).distinct().order_by("action")))


def _batches(chosen: AuditFilter) -> Iterator[list[AuditEntry]]:
    before: int | None = None
    while True:
        page = page_of(chosen, before, EXPORT_BATCH)
        if page.entries:
            yield page.entries
            db.session.expunge_all()  # an export of a year's log holds one batch in memory
        if page.next_before is None:
            return
        before = page.next_before


def record_of(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "time": entry.created_at.isoformat(),
        "actor_kind": entry.actor_kind.value,
        "actor_user_id": entry.actor_user_id,
        "actor": entry.actor_label,
        "action": entry.action,
        "target_kind": entry.target_kind,
        "target_id": entry.target_id,
        "target": entry.target_label,
        "form_id": entry.form_id,
        "outcome": entry.outcome.value,
        "address": entry.address,
        "request_id": entry.request_id,
        "details": entry.details,
    }


def _csv_cell(value: Any) -> Any:
    if isinstance(value, dict):
        value = json.dumps(value, sort_keys=True)
    return escape_formula(value) if isinstance(value, str) else value


def stream_csv(chosen: AuditFilter) -> Iterator[bytes]:
    """The entries as CSV, newest first; text that a spreadsheet would run as a formula is
    written with a leading apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    yield buffer.getvalue().encode()
    for batch in _batches(chosen):
        buffer.seek(0)
        buffer.truncate()
        for entry in batch:
            writer.writerow([_csv_cell(value) for value in record_of(entry).values()])
        yield buffer.getvalue().encode()


def stream_jsonl(chosen: AuditFilter) -> Iterator[bytes]:
    for batch in _batches(chosen):
        yield b"".join(
            json.dumps(record_of(entry), ensure_ascii=False).encode() + b"\n" for entry in batch
        )


def purge_older_than(days: int, now: datetime | None = None) -> int:
    """Delete entries older than ``days``, in batches; how many."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    purged = 0
    while True:
        ids = list(
            db.session.scalars(
                select(AuditEntry.id).where(AuditEntry.created_at < cutoff).limit(PURGE_BATCH)
            )
        )
        if not ids:
            return purged
        db.session.execute(delete(AuditEntry).where(AuditEntry.id.in_(ids)))
        db.session.commit()
        purged += len(ids)
