"""``flask check-deploy``: every unsafe or missing setting is listed with its fix, and a good
production configuration passes."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from flask_migrate import stamp
from sqlalchemy import text

from app import create_app
from app.extensions import db
from app.models import Role
from app.models.delivery import DeliveryKind
from app.models.delivery import DeliveryTrigger
from app.models.types import utcnow
from app.ops.deploy_checks import check_settings
from app.services.delivery import outbox
from config import normalize_database_url
from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import make_user
from tests.database_helpers import require_service

STRONG_KEY = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
GOOD_SETTINGS = {
    "APP_ENV": "production",
    "SECRET_KEY": STRONG_KEY,
    "DEBUG": False,
    "BASE_URL": "https://forms.example.org",
    "TRUSTED_HOSTS": ["forms.example.org"],
    "TRUSTED_PROXY_COUNT": 1,
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_NAME": "__Host-formyard_session",
    "REMEMBER_COOKIE_NAME": "__Host-formyard_remember",
    "MAIL_SERVER": "smtp.example.org",
    "WEBHOOK_ALLOW_PRIVATE": False,
}


def make_app(database_url: str, **settings):
    app = create_app({"SQLALCHEMY_DATABASE_URI": normalize_database_url(database_url), **settings})
    with app.app_context():
        db.create_all()
    return app


def finding_ids(output: str) -> set[str]:
    return {
        line.split()[1].rstrip(":")
        for line in output.splitlines()
        if line.startswith(("ERROR", "WARNING"))
    }


def test_a_development_style_configuration_lists_every_problem(tmp_path, monkeypatch):
    monkeypatch.setenv("DYNO", "web.1")  # as on Heroku
    monkeypatch.setenv("DEBUG", "1")
    app = make_app(
        f"sqlite:///{tmp_path / 'bad.sqlite3'}",
        APP_ENV="testing",
        SECRET_KEY="changeme",
        BASE_URL="http://forms.example.org",
        TRUSTED_HOSTS=[],
        SESSION_COOKIE_SECURE=False,
        WEBHOOK_ALLOW_PRIVATE=True,
        MAIL_SERVER="",
        TRUSTED_PROXY_COUNT=0,
    )
    result = app.test_cli_runner().invoke(args=["check-deploy"])
    assert result.exit_code == 1
    assert finding_ids(result.output) == {
        "app-env",
        "secret-key",
        "debug",
        "base-url-https",
        "trusted-hosts",
        "migrations",
        "database-sqlite",
        "redis-missing",
        "cookies-insecure",
        "mail-missing",
        "webhook-private",
        "proxy-count",
    }
    assert "fix: Run `flask db upgrade`" in result.output
    assert result.output.rstrip().endswith("5 error(s), 7 warning(s).")


def test_errors_are_listed_before_warnings(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'order.sqlite3'}", APP_ENV="testing")
    output = app.test_cli_runner().invoke(args=["check-deploy"]).output
    levels = [line.split()[0] for line in output.splitlines() if line[:1].isupper()]
    assert levels[: levels.count("ERROR")] == ["ERROR"] * levels.count("ERROR")


@pytest.mark.parametrize(
    ("setting", "value", "finding"),
    [
        ("BASE_URL", "http://127.0.0.1:5000", "base-url"),
        ("BASE_URL", "http://forms.example.org", "base-url-https"),
        ("TRUSTED_HOSTS", ["other.example.org"], "trusted-hosts"),
        ("SECRET_KEY", "a" * 64, "secret-key"),
        ("SESSION_COOKIE_SECURE", False, "cookies-insecure"),
        ("SESSION_COOKIE_NAME", "formyard_session", "cookie-prefix"),
        ("REMEMBER_COOKIE_NAME", "formyard_remember", "cookie-prefix"),
        ("SESSION_COOKIE_DOMAIN", "example.org", "cookie-prefix"),
        ("MAIL_SERVER", "", "mail-missing"),
    ],
)
def test_each_setting_on_its_own(setting, value, finding):
    config = {
        **GOOD_SETTINGS,
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/formyard",
        "REDIS_URL": "redis://redis:6379/0",
        "RATELIMIT_STORAGE_URI": "redis://redis:6379/0",
        setting: value,
    }
    assert [found.id for found in check_settings(config, environ={})] == [finding]


def test_proxy_count_matters_only_behind_a_platform():
    config = {
        **GOOD_SETTINGS,
        "TRUSTED_PROXY_COUNT": 0,
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/formyard",
        "REDIS_URL": "redis://redis:6379/0",
        "RATELIMIT_STORAGE_URI": "redis://redis:6379/0",
    }
    assert check_settings(config, environ={}) == []
    assert [found.id for found in check_settings(config, environ={"RENDER": "true"})] == [
        "proxy-count"
    ]


def test_unreachable_redis_is_an_error(tmp_path):
    app = make_app(
        f"sqlite:///{tmp_path / 'redis.sqlite3'}",
        APP_ENV="testing",
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0",  # the discard port: nothing listens
    )
    result = app.test_cli_runner().invoke(args=["check-deploy"])
    assert result.exit_code == 1
    assert "redis-unreachable" in finding_ids(result.output)


@pytest.fixture
def good_app(database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("a good production configuration uses PostgreSQL")
    redis_url = require_service("REDIS_URL")
    app = make_app(
        database_url,
        **GOOD_SETTINGS,
        REDIS_URL=redis_url,
        RATELIMIT_STORAGE_URI=redis_url,
        RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex[:8]}:",
    )
    with app.app_context():
        stamp()  # the schema create_all made is the newest migration's
    yield app
    with app.app_context():
        db.session.execute(text("DROP TABLE alembic_version"))
        db.session.execute(text("DELETE FROM deliveries"))
        db.session.execute(text("DELETE FROM users"))
        db.session.commit()
        db.engine.dispose()


def test_a_good_production_configuration_passes(good_app, monkeypatch):
    make_user(good_app, OWNER_EMAIL, Role.OWNER)
    monkeypatch.setenv("DYNO", "web.1")
    monkeypatch.delenv("DEBUG", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    result = good_app.test_cli_runner().invoke(args=["check-deploy"])
    assert result.output == "No problems found.\n"
    assert result.exit_code == 0


def test_a_fresh_install_waits_for_the_setup_code(good_app):
    result = good_app.test_cli_runner().invoke(args=["check-deploy"])
    assert finding_ids(result.output) == {"setup-pending"}
    assert "No owner yet: /setup waits for the setup code" in result.output
    assert "WARNING setup-pending" in result.output


def test_a_setup_page_without_a_code_is_an_error(good_app):
    good_app.config["SETUP_CODE_REQUIRED"] = False
    result = good_app.test_cli_runner().invoke(args=["check-deploy"])
    assert result.exit_code == 1
    assert finding_ids(result.output) == {"setup-open"}
    assert "the first visitor can claim it" in result.output


def test_deliveries_nobody_sends_point_at_a_missing_worker(good_app):
    make_user(good_app, OWNER_EMAIL, Role.OWNER)
    with good_app.app_context():
        outbox.queue(
            DeliveryKind.WEBHOOK,
            {"hello": "world"},
            event="test",
            trigger=DeliveryTrigger.TEST,
            now=utcnow() - timedelta(minutes=11),
        )
        db.session.commit()
    result = good_app.test_cli_runner().invoke(args=["check-deploy"])
    assert result.exit_code == 1
    assert finding_ids(result.output) == {"outbox-backlog"}
    assert "1 deliveries have waited over 10 minutes" in result.output
