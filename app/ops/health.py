"""Is the app ready to serve: the database answers and its schema is at the newest migration.
Alongside, how the outbox is doing: what waits and for how long, and when a worker last ran."""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from functools import cache
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import MIGRATIONS_DIR
from app.extensions import db
from app.models.types import utcnow
from app.services.delivery import backlog


@dataclass(frozen=True)
class Readiness:
    ready: bool
    database: str
    migrations: str
    current_revision: str | None
    head_revision: str | None
    outbox: dict[str, Any] | None = field(default=None)

    def as_dict(self) -> dict:
        return {"status": "ready" if self.ready else "not ready", **asdict(self)}


@cache
def head_revision() -> str | None:
    # Heads only change with a deploy, so read them from disk once per process.
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def check_readiness() -> Readiness:
    head = head_revision()
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception as error:  # any failure to talk to the database means "not ready"
        return Readiness(False, f"error: {type(error).__name__}", "unknown", None, head)
    at_head = current == head
    return Readiness(
        at_head, "ok", "at head" if at_head else "behind", current, head, outbox_report()
    )


def outbox_report() -> dict[str, Any] | None:
    """The outbox's figures; a backlog does not make the app unready (a worker sends it).
    None while a schema behind lacks the tables."""
    try:
        state = backlog.outbox_state()
        last_seen = backlog.last_heartbeat()
    except SQLAlchemyError:
        return None
    finally:
        db.session.rollback()
    return {
        "depth": state.depth,
        "oldest_undelivered_age_seconds": _rounded(state.oldest_age()),
        "overdue_seconds": _rounded(state.overdue_for()),
        "stuck": state.stuck_since() is not None,
        "worker_last_seen_age_seconds": _rounded(
            None if last_seen is None else (utcnow() - last_seen).total_seconds()
        ),
    }


def _rounded(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds)
