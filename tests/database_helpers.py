"""The databases and other services the tests run against, and how each test's database starts
empty: SQLite in a temporary folder, or PostgreSQL when ``TEST_DATABASE_URL`` is set.

``REQUIRE_SERVICES=1`` turns a missing service into a failure instead of a skip.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import pytest
from sqlalchemy import create_engine
from sqlalchemy import text

from app.database import is_postgresql
from app.extensions import db
from config import normalize_database_url


def require_service(variable: str) -> str:
    """The value of ``variable``, or skip (fail under REQUIRE_SERVICES=1) when it is unset."""
    value = os.environ.get(variable, "")
    if not value:
        message = f"{variable} is not set"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message} but REQUIRE_SERVICES=1")
        pytest.skip(message)
    return value


def postgres_database_for_this_worker(url: str) -> str:
    """Under pytest-xdist each worker gets a database of its own next to TEST_DATABASE_URL's,
    since tests empty every table after themselves."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_{worker}"
    admin = create_engine(normalize_database_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).scalar()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return urlunsplit(parts._replace(path=f"/{name}"))


_postgres_schema_ready: set[str] = set()


def prepare_schema(database_url: str) -> None:
    """Create the tables, inside an app context: on SQLite each time (each test has a new
    file), on PostgreSQL once per run, after which tests empty the tables instead."""
    if not is_postgresql():
        db.create_all()
        return
    if database_url not in _postgres_schema_ready:
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        db.create_all()
        _postgres_schema_ready.add(database_url)


def empty_tables() -> None:
    """Empty every table on PostgreSQL, inside an app context; SQLite files are thrown away."""
    if not is_postgresql():
        return
    names = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
