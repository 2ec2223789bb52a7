"""Production settings: trusted proxies, static files through WhiteNoise, JSON logs, Sentry."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import brotli
import pytest
from flask import Flask
from flask import jsonify
from flask import request
from whitenoise.compress import main as compress_static

import config
from app import create_app
from app import static_files
from tests.delivery_helpers import Receiver
from tests.delivery_helpers import free_port

ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
HOST = "http://127.0.0.1:5000"
JSON = {"Accept": "application/json"}  # skips the first-run setup redirect


def make_app(tmp_path, **settings):
    return create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'settings.sqlite3'}",
            **settings,
        }
    )


def add_whoami(app: Flask) -> Flask:
    @app.get("/_whoami")
    def whoami():
        return jsonify(addr=request.remote_addr, scheme=request.scheme, host=request.host)

    return app


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


# --- trusted proxies ---

FORWARDED = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7", "X-Forwarded-Proto": "https, https"}


@pytest.mark.parametrize(
    ("proxies", "addr", "scheme"),
    [
        (0, "127.0.0.1", "http"),  # nobody trusted: the headers are anyone's to forge
        (1, "198.51.100.7", "https"),  # the address our one proxy saw, not what the client claims
        (2, "203.0.113.9", "https"),
    ],
)
def test_forwarded_headers_are_honoured_only_for_trusted_proxies(tmp_path, proxies, addr, scheme):
    app = add_whoami(make_app(tmp_path, TRUSTED_PROXY_COUNT=proxies))
    answer = app.test_client().get("/_whoami", headers={**JSON, **FORWARDED}).get_json()
    assert answer["addr"] == addr
    assert answer["scheme"] == scheme


def test_a_forwarded_host_is_still_checked_against_trusted_hosts(tmp_path):
    app = add_whoami(make_app(tmp_path, TRUSTED_PROXY_COUNT=1))
    client = app.test_client()
    forged = client.get("/_whoami", headers={**JSON, "X-Forwarded-Host": "evil.example"})
    assert forged.status_code == 400
    allowed = client.get("/_whoami", headers={**JSON, "X-Forwarded-Host": "localhost"})
    assert allowed.get_json()["host"] == "localhost"


# --- static files ---


@pytest.fixture
def production_app(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'production.sqlite3'}")
    for name in ("APP_ENV", "DEBUG", "BASE_URL", "TRUSTED_HOSTS", "SENTRY_DSN", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    return create_app()


def test_pages_link_static_files_by_hashed_name_cached_for_a_year(production_app):
    client = production_app.test_client()
    page = client.get("/healthz", base_url=HOST)
    with production_app.test_request_context(base_url=HOST):
        from flask import url_for

        css = url_for("static", filename="css/app.css")
    assert page.status_code == 200
    digest = static_files.file_digest(
        str(ROOT / "app/static/css/app.css"),
        (ROOT / "app/static/css/app.css").stat().st_mtime_ns,
        (ROOT / "app/static/css/app.css").stat().st_size,
    )
    assert css == f"/static/css/app.{digest}.css"
    response = client.get(css, base_url=HOST)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "max-age=315360000, public, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data == (ROOT / "app/static/css/app.css").read_bytes()


def test_plain_static_names_still_work_with_a_short_cache(production_app):
    # Embed snippets on other sites and imports between modules use the plain name.
    response = production_app.test_client().get("/static/js/embed.js", base_url=HOST)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "max-age=600, public"


def test_a_stale_hash_is_not_found(production_app):
    response = production_app.test_client().get("/static/css/app.000000000000.css", base_url=HOST)
    assert response.status_code == 404


def test_development_serves_static_files_through_flask(tmp_path):
    app = make_app(tmp_path, APP_ENV="development")
    assert not isinstance(app.wsgi_app, static_files.HashedStaticFiles)
    response = app.test_client().get("/static/css/app.css")
    assert response.status_code == 200
    assert "immutable" not in response.headers.get("Cache-Control", "")


@pytest.fixture
def compressed_static_app(tmp_path):
    """An app whose static folder went through the build step, as in the Dockerfile."""
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "site.css").write_text("body { color: #123456; }\n" * 200)
    compress_static([str(static)])
    app = Flask("compressed", static_folder=str(static))
    app.config["APP_ENV"] = "production"
    static_files.init_app(app)
    return app


@pytest.mark.parametrize(
    ("accept", "encoding", "decode"),
    [
        ("gzip", "gzip", gzip.decompress),
        ("gzip, deflate, br", "br", brotli.decompress),
        ("identity", None, bytes),
    ],
)
def test_compressed_copies_are_served_to_clients_that_ask(
    compressed_static_app, accept, encoding, decode
):
    with compressed_static_app.test_request_context():
        from flask import url_for

        url = url_for("static", filename="css/site.css")
    response = compressed_static_app.test_client().get(url, headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == encoding
    assert response.headers["Cache-Control"] == "max-age=315360000, public, immutable"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert decode(response.data) == b"body { color: #123456; }\n" * 200


# --- JSON logs ---

LOGGING_SCRIPT = """
import config
from app import create_app
app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
app.config["PROPAGATE_EXCEPTIONS"] = False

@app.get("/_boom")
def boom():
    raise RuntimeError("kaboom")

client = app.test_client()
client.get("/healthz", headers={"X-Request-ID": "req-json-1"})
client.get("/_boom", headers={"Accept": "application/json"})
"""


def test_json_logs_are_one_object_per_line_request_lines_included():
    result = run_python(LOGGING_SCRIPT, LOG_FORMAT="json", LOG_LEVEL="INFO")
    assert result.returncode == 0, result.stderr
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    health = next(entry for entry in entries if entry.get("path") == "/healthz")
    assert health["logger"] == "formyard.request"
    assert health["level"] == "INFO"
    assert health["method"] == "GET"
    assert health["status"] == 200
    assert health["request_id"] == "req-json-1"
    assert health["message"].startswith("GET /healthz 200 ")
    error = next(entry for entry in entries if "exception" in entry)
    assert "RuntimeError: kaboom" in error["exception"]


def test_gunicorn_logs_json_too(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": STRONG_KEY,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gunicorn.sqlite3'}",
        "TRUSTED_HOSTS": "127.0.0.1",
        "LOG_FORMAT": "json",
        "WEB_CONCURRENCY": "1",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn), "wsgi:app", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_for_health(f"http://127.0.0.1:{port}/healthz"), "gunicorn did not start"
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    entries = [json.loads(line) for line in output.splitlines() if line.strip()]
    messages = [(entry["logger"], entry["message"]) for entry in entries]
    assert any(
        logger == "gunicorn.error" and m.startswith("Starting gunicorn") for logger, m in messages
    )
    assert any(logger == "formyard.request" and "GET /healthz 200" in m for logger, m in messages)
    assert not any(logger == "gunicorn.access" for logger, _ in messages)


def wait_for_health(url: str, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status == 200
        except OSError:
            time.sleep(0.2)
    return False


def test_text_logs_stay_the_default():
    result = run_python(LOGGING_SCRIPT, LOG_FORMAT="")
    assert result.returncode == 0, result.stderr
    assert " INFO formyard.request GET /healthz 200 " in result.stdout


# --- Sentry ---

SENTRY_SCRIPT = """
import sys
import config
from app import create_app
app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
app.config["PROPAGATE_EXCEPTIONS"] = False

@app.get("/_boom")
def boom():
    raise RuntimeError("reported-to-sentry-4711")

print("status", app.test_client().get("/_boom", headers={"Accept": "application/json"}).status_code)
print("sentry loaded", "sentry_sdk" in sys.modules)
if "sentry_sdk" in sys.modules:
    import sentry_sdk
    sentry_sdk.flush(timeout=10)
"""


def test_without_a_dsn_sentry_is_never_loaded():
    result = run_python(SENTRY_SCRIPT, SENTRY_DSN="")
    assert result.returncode == 0, result.stderr
    assert "status 500" in result.stdout
    assert "sentry loaded False" in result.stdout


def test_with_a_dsn_an_error_is_sent_to_sentry():
    receiver = Receiver().start()
    try:
        port = receiver.server.server_address[1]
        result = run_python(SENTRY_SCRIPT, SENTRY_DSN=f"http://publickey@127.0.0.1:{port}/1")
        assert result.returncode == 0, result.stderr
        assert "sentry loaded True" in result.stdout
        deadline = time.monotonic() + 10
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        receiver.stop()
    envelope = receiver.requests[0]
    assert envelope.path == "/api/1/envelope/"
    assert "sentry_key=publickey" in envelope.headers.get("X-Sentry-Auth", "")
    body = decode_body(envelope.body, envelope.headers.get("Content-Encoding", ""))
    assert b"reported-to-sentry-4711" in body
    assert b'"environment":"testing"' in body.replace(b" ", b"")


def decode_body(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "br":
        return brotli.decompress(body)
    return body


# --- Redis over TLS ---


@pytest.mark.parametrize(
    ("url", "policy", "expected"),
    [
        ("rediss://:pw@host:6379", "none", "rediss://:pw@host:6379?ssl_cert_reqs=none"),
        ("rediss://host:6379/0?a=1", "none", "rediss://host:6379/0?a=1&ssl_cert_reqs=none"),
        (
            "rediss://host:6379?ssl_cert_reqs=required",
            "none",
            "rediss://host:6379?ssl_cert_reqs=required",
        ),
        ("redis://host:6379", "none", "redis://host:6379"),
        ("rediss://host:6379", "", "rediss://host:6379"),
    ],
)
def test_heroku_redis_certificate_policy_reaches_the_rate_limit_storage(
    monkeypatch, url, policy, expected
):
    monkeypatch.setenv("REDIS_SSL_CERT_REQS", policy)
    monkeypatch.setenv("REDIS_URL", url)
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    assert expected == config.load_config("production").RATELIMIT_STORAGE_URI
