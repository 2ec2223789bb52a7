"""An app with the production configuration on the test's database (SQLite, then PostgreSQL),
reached over HTTPS as a browser reaches it behind the platform's router.

Test modules import the fixture they use (``production_app_fixture`` provides
``production_app``) and send requests through ``https_client``.
"""

from __future__ import annotations

import uuid

import pytest
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db
from config import normalize_database_url
from tests.database_helpers import empty_tables
from tests.database_helpers import prepare_schema

STRONG_KEY = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
HTTPS = "https://127.0.0.1"


@pytest.fixture(name="production_app")
def production_app_fixture(database_url):
    app = create_app(
        {
            "APP_ENV": "production",
            "SECRET_KEY": STRONG_KEY,
            "SQLALCHEMY_DATABASE_URI": normalize_database_url(database_url),
            "BASE_URL": HTTPS,
            "TRUSTED_HOSTS": ["127.0.0.1"],
            "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}:",
        }
    )
    with app.app_context():
        prepare_schema(database_url)
    yield app
    with app.app_context():
        empty_tables()
        db.engine.dispose()


class HttpsClient(FlaskClient):
    """A test client whose requests go to https://127.0.0.1, so Secure cookies come back,
    with the Referer a browser sends (CSRF checks it over HTTPS)."""

    def open(self, *args, **kwargs):
        if args and isinstance(args[0], str):
            kwargs.setdefault("base_url", HTTPS)
            kwargs["headers"] = {"Referer": f"{HTTPS}/", **dict(kwargs.get("headers") or {})}
        return super().open(*args, **kwargs)


def https_client(app) -> FlaskClient:
    return HttpsClient(app, app.response_class, use_cookies=True)
