"""Engine settings that SQLAlchemy URLs cannot express."""

from __future__ import annotations

import sqlite3
import time

from sqlalchemy import event
from sqlalchemy import exc
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from app.extensions import db

SQLITE_BUSY_TIMEOUT_MS = 5000
# A connection back in use within this many seconds is not pinged first (see below).
PING_AFTER_IDLE_SECONDS = 1.0
_configured = False


def configure_engine_events() -> None:
    global _configured
    if not _configured:
        event.listen(Engine, "connect", _configure_sqlite_connection)
        event.listen(Pool, "checkin", _note_checkin)
        event.listen(Pool, "checkout", _ping_if_idle)
        _configured = True


def _note_checkin(_dbapi_connection, record) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
    """SQLAlchemy's pool_pre_ping, for connections that sat idle: a ping is a round trip, and
    on a busy server it was one of six per submission, for a connection used a moment ago. A
    connection that breaks within the second fails its request with a 503 (the pool then
    replaces every connection older than the failure); an idle one is tested and replaced
    before use. Raising DisconnectionError makes the pool try a fresh connection."""
    checked_in_at = record.info.get("checked_in_at")
    if checked_in_at is not None and time.monotonic() - checked_in_at < PING_AFTER_IDLE_SECONDS:
        return
    # As SQLAlchemy's own ping: in autocommit where the driver has it (psycopg), so that the
    # ping leaves no transaction open and the connection can still be switched to autocommit.
    switch = getattr(dbapi_connection, "autocommit", True) is False
    try:
        if switch:
            dbapi_connection.autocommit = True
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        if switch:
            dbapi_connection.autocommit = False
    except Exception as error:
        raise exc.DisconnectionError("the connection failed its ping") from error


def _configure_sqlite_connection(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while one writer writes; the busy timeout makes writers queue
    # instead of failing with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def is_postgresql(bind: Engine | Connection | Dialect | None = None) -> bool:
    """Whether ``bind`` (an engine, a connection or a dialect; the app's engine by default)
    talks to PostgreSQL. Formyard runs on PostgreSQL or SQLite, so False means SQLite. Posts
    call it: it costs what reading ``.dialect.name`` does, plus the call."""
    if bind is None:
        bind = db.engine
    return getattr(bind, "dialect", bind).name == "postgresql"
