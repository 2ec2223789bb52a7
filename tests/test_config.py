"""Configuration from the environment, and the production guard."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

import config
from app import create_app
from config import ConfigurationError
from tests.delivery_helpers import free_port
from tests.process_helpers import VENV_BIN
from tests.process_helpers import loopback_gunicorn
from tests.process_helpers import program_environment

ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ("APP_ENV", "SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL", "TRUSTED_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/config.sqlite3")
    return monkeypatch


def test_production_is_the_default_when_app_env_is_unset(clean_env):
    clean_env.setenv("SECRET_KEY", STRONG_KEY)
    app = create_app()
    assert app.config["APP_ENV"] == "production"
    assert app.config["DEBUG"] is False
    assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    ("secret_key", "debug", "message"),
    [
        (None, None, "SECRET_KEY is missing"),
        ("  ", None, "SECRET_KEY is missing"),
        ("changeme", None, "SECRET_KEY is too weak"),
        ("short-but-random-7f3a", None, "SECRET_KEY is too weak"),
        ("a" * 64, None, "SECRET_KEY is too weak"),
        (STRONG_KEY, "1", "DEBUG must be off"),
    ],
)
def test_production_refuses_unsafe_settings(clean_env, secret_key, debug, message):
    if secret_key is not None:
        clean_env.setenv("SECRET_KEY", secret_key)
    if debug is not None:
        clean_env.setenv("DEBUG", debug)
    with pytest.raises(ConfigurationError, match=message):
        create_app()


def test_gunicorn_entry_point_explains_in_one_line_and_exits(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "APP_ENV": "production",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Formyard cannot start: SECRET_KEY is missing; generate one with "
        "`python -c 'import secrets; print(secrets.token_hex(32))'`"
    ]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"SECRET_KEY": "changeme"}, "SECRET_KEY is too weak"),
        ({"SECRET_KEY": "short-but-random-7f3a"}, "SECRET_KEY is too weak"),
        ({}, "SECRET_KEY is missing"),
        ({"SECRET_KEY": STRONG_KEY, "DEBUG": "1"}, "DEBUG must be off in production"),
    ],
)
def test_gunicorn_refuses_a_bad_setting_once_in_its_master_and_exits(tmp_path, settings, message):
    """The repository's gunicorn.conf.py, as the Procfile starts it: no worker boots, the
    line is printed once, and gunicorn exits non-zero at once instead of booting workers that
    each refuse in turn."""
    port = free_port()
    env = {
        **program_environment(loopback_gunicorn(port)),
        "APP_ENV": "production",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3",
        "PORT": str(port),
        **settings,
    }
    if "DEBUG" not in settings:
        env.pop("DEBUG", None)
    if "SECRET_KEY" not in settings:
        env.pop("SECRET_KEY", None)
    started = time.monotonic()
    result = subprocess.run(
        [str(VENV_BIN / "gunicorn"), "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert time.monotonic() - started < 10
    output = result.stdout + result.stderr
    refusals = [line for line in output.splitlines() if "Formyard cannot start" in line]
    assert len(refusals) == 1, output
    assert message in refusals[0]
    assert "Booting worker" not in output


def test_unknown_app_env_is_refused(clean_env):
    clean_env.setenv("APP_ENV", "staging")
    with pytest.raises(ConfigurationError, match="APP_ENV='staging' is unknown"):
        create_app()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@host:5432/db", "postgresql+psycopg://u:p@host:5432/db"),
        ("postgresql://u@host/db", "postgresql+psycopg://u@host/db"),
        ("sqlite:////tmp/x.sqlite3", "sqlite:////tmp/x.sqlite3"),
    ],
)
def test_database_url_accepts_herokus_form(url, expected):
    assert config.normalize_database_url(url) == expected


def test_development_keeps_a_generated_secret_key_in_instance(clean_env, tmp_path):
    clean_env.setattr(config, "INSTANCE_DIR", tmp_path / "instance")
    first = config.load_config("development").SECRET_KEY
    second = config.load_config("development").SECRET_KEY
    assert len(first) >= 32
    assert first == second
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_trusted_hosts_come_from_base_url_in_production(clean_env):
    clean_env.setenv("SECRET_KEY", STRONG_KEY)
    clean_env.setenv("BASE_URL", "https://forms.example.org")
    app = create_app()
    assert app.config["TRUSTED_HOSTS"] == ["forms.example.org"]
    client = app.test_client()
    assert client.get("/healthz", base_url="https://forms.example.org").status_code == 200
    assert client.get("/healthz", base_url="https://127.0.0.1").status_code == 400


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(app):
    from sqlalchemy import text

    from app.database import is_postgresql
    from app.extensions import db

    with app.app_context():
        if is_postgresql():
            pytest.skip("SQLite only")
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000


def test_bad_log_level_is_refused_with_a_clear_message(clean_env):
    clean_env.setenv("APP_ENV", "development")
    clean_env.setenv("LOG_LEVEL", "bogus")
    with pytest.raises(ConfigurationError, match="LOG_LEVEL must be one of"):
        create_app()


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf"])
def test_a_bad_public_form_ttl_is_refused_with_a_clear_message(clean_env, value):
    clean_env.setenv("APP_ENV", "development")
    clean_env.setenv("PUBLIC_FORM_TTL", value)
    with pytest.raises(ConfigurationError, match="PUBLIC_FORM_TTL must be a number of seconds"):
        create_app()
