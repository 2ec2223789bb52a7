"""Fixtures in the Flask way: ``app``, ``client``, ``runner`` and a small ``auth`` helper.

Every test that uses ``app`` runs on SQLite and, when ``TEST_DATABASE_URL`` is set, again on
PostgreSQL. ``REQUIRE_SERVICES=1`` turns a missing service into a failure instead of a skip.
"""

from __future__ import annotations

import os
import re
import uuid
from datetime import UTC
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text

from app import create_app
from app.caching import clear_process_caches
from app.database import is_postgresql
from app.extensions import db
from app.models import Role
from app.models import User
from app.services.accounts import users
from app.services.forms.settings import SETTINGS

OWNER_EMAIL = "owner@example.com"
PASSWORD = "correct horse battery staple"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# A value for every form setting, none of them the default, as forms.update_settings takes it.
SETTINGS_TO_CARRY: dict[str, Any] = {
    "status": "open",
    "closes_at": datetime(2031, 5, 4, 12, 30, tzinfo=UTC),
    "max_responses": 250,
    "confirmation_message": "Thanks, **really**.",
    "redirect_url": "https://example.org/thanks",
    "submit_label": "Register",
    "one_response_per_browser": True,
    "allowed_origins": ["https://www.example.org", "http://localhost:8000"],
}


def require_service(variable: str) -> str:
    """The value of ``variable``, or skip (fail under REQUIRE_SERVICES=1) when it is unset."""
    value = os.environ.get(variable, "")
    if not value:
        message = f"{variable} is not set"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message} but REQUIRE_SERVICES=1")
        pytest.skip(message)
    return value


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    return postgres_database_for_this_worker(require_service("TEST_DATABASE_URL"))


def postgres_database_for_this_worker(url: str) -> str:
    """Under pytest-xdist each worker gets a database of its own next to TEST_DATABASE_URL's,
    since tests empty every table after themselves."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    from urllib.parse import urlsplit
    from urllib.parse import urlunsplit

    from sqlalchemy import create_engine

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_{worker}"
    admin = create_engine(_driver_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).scalar()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return urlunsplit(parts._replace(path=f"/{name}"))


_postgres_schema_ready: set[str] = set()


@pytest.fixture
def app(database_url):
    app = create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": _driver_url(database_url),
            "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}:",
        }
    )
    # No app context is held while the test runs: each request must get its own, as in
    # production, or ``g`` and the database session would leak from one request to the next.
    with app.app_context():
        _prepare_schema(database_url)
    clear_process_caches()
    yield app
    app.extensions.pop("form_views", None)  # pending view counts die with the test's database
    with app.app_context():
        _empty_tables()
        db.engine.dispose()


def _driver_url(url: str) -> str:
    from config import normalize_database_url

    return normalize_database_url(url)


def _prepare_schema(database_url: str) -> None:
    if not is_postgresql():
        db.create_all()
        return
    # PostgreSQL: build the schema once per run, then empty the tables after each test.
    if database_url not in _postgres_schema_ready:
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        db.create_all()
        _postgres_schema_ready.add(database_url)


def _empty_tables() -> None:
    if not is_postgresql():
        return
    names = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def make_user(app, email: str, role: Role = Role.EDITOR, password: str = PASSWORD) -> int:
    """Create a user through the service and return their id."""
    with app.app_context():
        return users.create_user(email, email.split("@")[0].title(), password, role).id


def fetch_user(app, email: str) -> User:
    """The stored user, detached from any session, for assertions."""
    with app.app_context():
        user = users.find_user_by_email(email)
        if user is not None:
            db.session.expunge(user)
        return user


def every_setting() -> dict[str, Any]:
    """A value for every declared setting, for tests that a path carries each one: they fail
    until a new setting has a value in ``SETTINGS_TO_CARRY``."""
    assert list(SETTINGS_TO_CARRY) == [setting.name for setting in SETTINGS]
    for setting in SETTINGS:
        assert SETTINGS_TO_CARRY[setting.name] != setting.default, setting.name
    return dict(SETTINGS_TO_CARRY)


@pytest.fixture
def owner(app) -> int:
    return make_user(app, OWNER_EMAIL, Role.OWNER)


def csrf_token_from(response) -> str:
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, "page has no CSRF token"
    return match.group(1)


class AuthActions:
    """Sign in and out the way a browser does, CSRF token included."""

    def __init__(self, client):
        self._client = client

    def csrf_token(self) -> str:
        return csrf_token_from(self._client.get("/login", follow_redirects=True))

    def post(self, path: str, data: dict | None = None, **kwargs):
        data = {"csrf_token": self.csrf_token(), **(data or {})}
        return self._client.post(path, data=data, **kwargs)

    def login(self, email: str = OWNER_EMAIL, password: str = PASSWORD, remember: bool = False):
        data = {"email": email, "password": password}
        if remember:
            data["remember"] = "y"
        return self.post("/login", data)

    def logout(self):
        return self.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)
