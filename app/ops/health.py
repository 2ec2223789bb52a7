"""Is the app ready to serve: the database answers and its schema is at the newest migration."""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass
from functools import cache

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from app import MIGRATIONS_DIR
from app.extensions import db


@dataclass(frozen=True)
class Readiness:
    ready: bool
    database: str
    migrations: str
    current_revision: str | None
    head_revision: str | None

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
    return Readiness(at_head, "ok", "at head" if at_head else "behind", current, head)
