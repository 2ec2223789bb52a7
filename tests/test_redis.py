"""Parts backed by Redis when REDIS_URL is set: counts shared by every process."""

import uuid

import pytest
import redis

from app import create_app
from tests.auth_helpers import AuthActions
from tests.database_helpers import require_service


@pytest.fixture
def redis_url() -> str:
    return require_service("REDIS_URL")


def app_on(database_url: str, storage_uri: str, prefix: str):
    return create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_STORAGE_URI": storage_uri,
            "RATELIMIT_KEY_PREFIX": prefix,
        }
    )


def test_failed_logins_are_counted_in_redis_and_shared_between_processes(app, owner, redis_url):
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    first_process = AuthActions(app_on(database_url, redis_url, prefix).test_client())
    second_process = AuthActions(app_on(database_url, redis_url, prefix).test_client())
    for _ in range(5):
        assert first_process.login(password="wrong password here").status_code == 422
    assert second_process.login().status_code == 429
    keys = redis.Redis.from_url(redis_url).keys(f"*{prefix}login-failures*")
    assert keys, "no throttle keys in Redis"


def test_login_still_works_when_the_throttle_storage_is_down(app, owner, caplog):
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    down = app_on(database_url, "redis://127.0.0.1:9/0", "down:")
    auth = AuthActions(down.test_client())
    assert auth.login(password="wrong password here").status_code == 422
    assert auth.login().status_code == 303
    assert "login throttle storage unavailable" in caplog.text
