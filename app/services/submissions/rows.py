"""The statements every post runs: count the submission on its form's row, and store its row.

They are written out once per database and run through the driver (``exec_driver_sql``) with
parameters that the column types have already converted. Building them from SQLAlchemy
constructs and binding a dozen typed parameters by name, for every post, cost more than the
database's own work on them.

A submission that writes nothing else (no files, no outgoing deliveries) is stored in a
transaction of its own (``store_counted_alone``). On PostgreSQL that is one autocommitted
statement, a single round trip where the session's transaction takes three (BEGIN, the
statement, COMMIT). On SQLite the two statements and the commit run back to back, so the write
lock that the other workers queue for is held as briefly as it can be.
"""

# ruff: noqa: S608 -- the SQL is assembled from this module's constants and the table's columns.

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.engine import Row

from app.database import is_postgresql
from app.extensions import db
from app.models import FormStatus
from app.models import Submission
from app.models.types import UTCDateTime

_STORED_COLUMNS = tuple(column for column in Submission.__table__.columns if column.name != "id")

# The form's row counts a submission only while it has room for one; with the open check, only
# while it is open, out of the trash and before its closing time as well. The caller's copy of
# the form may come from a cache a moment old; the row in this statement cannot.
# last_submission_at keeps the later of the two times (a rescued spam submission may be older);
# updated_at is not touched, as a count is no edit.
_COUNT = """UPDATE forms
SET submission_count = submission_count + 1,
    last_submission_at = CASE
        WHEN last_submission_at IS NULL OR last_submission_at < {now} THEN {now}
        ELSE last_submission_at END
WHERE id = {form_id} AND (max_responses IS NULL OR submission_count < max_responses)"""
_IF_OPEN = """
  AND status = {open} AND deleted_at IS NULL AND (closes_at IS NULL OR closes_at > {now})"""


@dataclass(frozen=True)
class _Statements:
    """One database's texts of the statements, and the bind processors of their parameters."""

    count_if_room: str
    count_if_open: str
    insert: str  # with RETURNING id on PostgreSQL; SQLite's driver gives the id as lastrowid
    # PostgreSQL counts and inserts in one statement: a data-modifying WITH clause runs the
    # count, and the INSERT selects from what it returned, so no count means no row.
    insert_counted: str | None
    processors: tuple[tuple[str, Callable[[Any], Any] | None], ...]
    time_processor: Callable[[Any], Any] | None

    def parameters(self, values: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
        """The driver's parameters from a submission's column values; for a count alone, the
        form_id and ``now`` will do."""
        bound = {
            name: process(values[name]) if process else values[name]
            for name, process in self.processors
            if name in values
        }
        moment = values["created_at"] if now is None else now
        bound["now"] = self.time_processor(moment) if self.time_processor else moment
        bound["open"] = FormStatus.OPEN.value
        return bound


@lru_cache(maxsize=8)  # per engine's dialect: one in an app, a few in tests
def _statements(dialect: Dialect) -> _Statements:
    postgresql = is_postgresql(dialect)

    def placeholder(name: str) -> str:
        return f"%({name})s" if postgresql else f":{name}"

    names = [column.name for column in _STORED_COLUMNS]
    placeholders = {name: placeholder(name) for name in [*names, "now", "open"]}
    count_if_room = _COUNT.format(**placeholders)
    count_if_open = (_COUNT + _IF_OPEN).format(**placeholders)
    columns = ", ".join(names)
    values = ", ".join(placeholders[name] for name in names)
    insert = f"INSERT INTO submissions ({columns}) VALUES ({values})"
    insert_counted = None
    if postgresql:
        insert += " RETURNING id"
        selected = ", ".join(
            "counted.id" if name == "form_id" else placeholders[name] for name in names
        )
        insert_counted = (
            f"WITH counted AS ({count_if_open} RETURNING id) "
            f"INSERT INTO submissions ({columns}) SELECT {selected} FROM counted RETURNING id"
        )
    processors = tuple(
        (column.name, column.type.dialect_impl(dialect).bind_processor(dialect))
        for column in _STORED_COLUMNS
    )
    time_processor = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    return _Statements(
        count_if_room, count_if_open, insert, insert_counted, processors, time_processor
    )


def insert_counted(connection: Connection, values: dict[str, Any]) -> int | None:
    """Count a submission on its form and store its row, in ``connection``'s transaction; the
    new row's id, or None when the form's row refused it (nothing is then written)."""
    statements = _statements(connection.dialect)
    parameters = statements.parameters(values)
    if statements.insert_counted is not None:
        return connection.exec_driver_sql(statements.insert_counted, parameters).scalar()
    if connection.exec_driver_sql(statements.count_if_open, parameters).rowcount == 0:
        return None
    return connection.exec_driver_sql(statements.insert, parameters).lastrowid


def store_counted_alone(values: dict[str, Any]) -> int | None:
    """``insert_counted`` in a transaction of its own, committed before this returns."""
    with connection_of_its_own() as connection:
        submission_id = insert_counted(connection, values)
        if submission_id is not None and not autocommits(connection):
            connection.commit()
        return submission_id  # leaving the block rolls back what was not committed


def find_alone(form_id: int, idempotency_key: str) -> Row | None:
    """The id, meta and request fingerprint of the form's submission stored with
    ``idempotency_key``, read on a connection of its own, so that the submission that
    follows can be stored alone."""
    with connection_of_its_own() as connection:
        return connection.execute(
            _FIND_BY_KEY, {"form_id": form_id, "key": idempotency_key}
        ).first()


_FIND_BY_KEY = select(Submission.id, Submission.meta, Submission.idempotency_fingerprint).where(
    Submission.form_id == bindparam("form_id"), Submission.idempotency_key == bindparam("key")
)


def connection_of_its_own() -> Connection:
    """A pooled connection outside the session; on PostgreSQL in autocommit, since one
    statement is atomic by itself and BEGIN and COMMIT would be two more round trips."""
    connection = db.engine.connect()
    if is_postgresql(connection):
        return connection.execution_options(isolation_level="AUTOCOMMIT")
    return connection


def autocommits(connection: Connection) -> bool:
    return connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT"


def insert(connection: Connection, values: dict[str, Any]) -> int:
    """Store a row that is not counted (spam), in ``connection``'s transaction; its id."""
    statements = _statements(connection.dialect)
    result = connection.exec_driver_sql(statements.insert, statements.parameters(values))
    return result.scalar() if is_postgresql(connection) else result.lastrowid


def count_on_form(connection: Connection, form_id: int, now: datetime, *, check_open: bool) -> bool:
    """Count one more submission on the form's row, in ``connection``'s transaction; False when
    the row refused (full, and with ``check_open`` also closed, expired or in the trash)."""
    statements = _statements(connection.dialect)
    statement = statements.count_if_open if check_open else statements.count_if_room
    parameters = statements.parameters({"form_id": form_id}, now)
    return connection.exec_driver_sql(statement, parameters).rowcount > 0
