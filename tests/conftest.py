"""Fixtures in the Flask way: ``app``, ``client``, ``runner``, a small ``auth`` helper, and
``signed_in(role)`` for a client signed in as an owner, editor or viewer.

Every test that uses ``app`` runs on SQLite and, when ``TEST_DATABASE_URL`` is set, again on
PostgreSQL. ``REQUIRE_SERVICES=1`` turns a missing service into a failure instead of a skip.
Helpers that tests import live in the tests/*_helpers.py modules, not here.
"""

from __future__ import annotations

import functools
import uuid

import pytest

from app import create_app
from app.caching import clear_process_caches
from app.extensions import db
from app.models import Role
from config import normalize_database_url
from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import AuthActions
from tests.auth_helpers import make_user
from tests.auth_helpers import sign_in
from tests.database_helpers import empty_tables
from tests.database_helpers import postgres_database_for_this_worker
from tests.database_helpers import prepare_schema
from tests.database_helpers import require_service


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    return postgres_database_for_this_worker(require_service("TEST_DATABASE_URL"))


@pytest.fixture
def app(database_url):
    app = create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": normalize_database_url(database_url),
            "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}:",
        }
    )
    # No app context is held while the test runs: each request must get its own, as in
    # production, or ``g`` and the database session would leak from one request to the next.
    with app.app_context():
        prepare_schema(database_url)
    clear_process_caches()
    yield app
    app.extensions.pop("form_views", None)  # pending view counts die with the test's database
    with app.app_context():
        empty_tables()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def owner(app) -> int:
    return make_user(app, OWNER_EMAIL, Role.OWNER)


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def signed_in(app):
    """``signed_in(role=Role.OWNER, *, email=None, timezone=None)``: a new client signed in as a
    user with ``role``, made unless they exist (see ``tests.auth_helpers.sign_in``)."""
    return functools.partial(sign_in, app)
