"""Counting views of the public form without a database write per view.

Each process counts in memory, per form and UTC hour, and adds its counts to the database
with one upsert at most every ``FLUSH_SECONDS`` (from the request that finds the time has
come, from a timer when no other view comes, and when the process exits), so the summary
shows every process's views within those seconds. A crash loses at most those seconds of views.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import Counter
from collections.abc import Mapping
from datetime import datetime

from flask import Flask
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.database import is_postgresql
from app.extensions import db
from app.models import FormViewCount
from app.models.types import utcnow

FLUSH_SECONDS = 10.0
log = logging.getLogger("formyard.views")


class ViewCounter:
    """One app's pending counts. Apps in the same process (tests) keep theirs apart."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.pending: Counter[tuple[int, datetime]] = Counter()
        self.lock = threading.Lock()
        self.last_flush = time.monotonic()
        self.timer: threading.Timer | None = None

    def add(self, form_id: int, now: datetime) -> bool:
        """Count one view; True when it is time to flush."""
        hour = now.replace(minute=0, second=0, microsecond=0)
        with self.lock:
            self.pending[(form_id, hour)] += 1
            return time.monotonic() - self.last_flush >= FLUSH_SECONDS

    def flush_soon(self) -> None:
        """Store the pending counts within ``FLUSH_SECONDS`` even if no other view comes: one
        timer at a time. Not under tests, whose apps come and go with their databases."""
        if self.app.testing:
            return
        with self.lock:
            if self.timer is not None:
                return
            self.timer = threading.Timer(FLUSH_SECONDS, self._flush_from_timer)
            self.timer.daemon = True
            self.timer.start()

    def _flush_from_timer(self) -> None:
        with self.lock:
            self.timer = None
        try:
            with self.app.app_context():
                self.flush()
        except Exception:
            log.warning("could not store view counts", exc_info=True)

    def take(self) -> Counter[tuple[int, datetime]]:
        with self.lock:
            taken, self.pending = self.pending, Counter()
            self.last_flush = time.monotonic()
            return taken

    def put_back(self, counts: Counter[tuple[int, datetime]]) -> None:
        with self.lock:
            self.pending.update(counts)

    def flush(self) -> int:
        """Write the pending counts in one statement; how many rows it touched."""
        counts = self.take()
        if not counts:
            return 0
        try:
            return add_view_counts(counts)
        except IntegrityError:
            # A form was deleted meanwhile: its views do not matter any more.
            log.warning("dropped %d view counts of a deleted form", len(counts))
            return 0
        except SQLAlchemyError:
            # The database is away: keep the counts for next time.
            log.warning("could not store %d view counts; keeping them", len(counts), exc_info=True)
            self.put_back(counts)
            return 0


def add_view_counts(counts: Mapping[tuple[int, datetime], int], chunk: int = 1000) -> int:
    """Add views per (form id, UTC hour) to the stored counts; how many rows it touched.

    Its own connection and transaction: the request's session is left alone.
    """
    with db.engine.begin() as connection:
        return _upsert_view_counts(connection, counts, chunk)


def _upsert_view_counts(
    connection: Connection | Session, counts: Mapping[tuple[int, datetime], int], chunk: int = 1000
) -> int:
    rows = [
        {"form_id": form_id, "hour": hour, "views": views}
        for (form_id, hour), views in counts.items()
    ]
    insert = postgresql_insert if is_postgresql() else sqlite_insert
    for start in range(0, len(rows), chunk):
        statement = insert(FormViewCount).values(rows[start : start + chunk])
        statement = statement.on_conflict_do_update(
            index_elements=["form_id", "hour"],
            set_={"views": FormViewCount.views + statement.excluded.views},
        )
        connection.execute(statement)
    return len(rows)


# Every live counter, flushed when the process exits; weak, so apps that are gone (tests build
# many) are not kept alive by it.
_counters: weakref.WeakSet[ViewCounter] = weakref.WeakSet()


def counter_for(app: Flask) -> ViewCounter:
    counter = app.extensions.get("form_views")
    if counter is None:
        counter = app.extensions["form_views"] = ViewCounter(app)
        _counters.add(counter)
    return counter


@atexit.register
def _flush_at_exit() -> None:
    for counter in list(_counters):
        try:
            with counter.app.app_context():
                counter.flush()
        except Exception:
            log.warning("could not store view counts at exit", exc_info=True)


def record_view(form_id: int) -> None:
    """Count a view of form ``form_id``'s public page (called on every GET, so it is cheap)."""
    counter = counter_for(current_app._get_current_object())
    if counter.add(form_id, utcnow()):
        counter.flush()
    else:
        counter.flush_soon()


def store_views_before_reading() -> None:
    """Store this process's pending counts in the session's own transaction, and commit it:
    for a page that reads the counts next (the summary), so today's views show at once. A
    second connection, as ``flush`` uses, would wait on SQLite for the lock this session's
    reads hold."""
    counter = counter_for(current_app._get_current_object())
    counts = counter.take()
    if not counts:
        return
    try:
        _upsert_view_counts(db.session, counts)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        log.warning("dropped %d view counts of a deleted form", len(counts))
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("could not store %d view counts; keeping them", len(counts), exc_info=True)
        counter.put_back(counts)


def flush_views() -> int:
    """Store this process's pending counts now (tests, the seed command, shutdown)."""
    return counter_for(current_app._get_current_object()).flush()
