"""Log lines cannot be forged: whatever a client sends, each record is one line in both formats,
and what it sent shows escaped."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from app.logs import JsonFormatter
from app.logs import TextFormatter
from app.logs import escape_for_log
from tests.delivery_helpers import free_port
from tests.test_production_settings import STRONG_KEY
from tests.test_production_settings import wait_for_health

ROOT = Path(__file__).resolve().parent.parent
FORGED = "FORGED 2026-01-01 INFO formyard.request GET /admin 200"
# Everything that ends a line for some reader: CR, LF, VT, FF, NEL, the file/group/record
# separators (str.splitlines), and the Unicode line and paragraph separators.
BREAKS = ["\r\n", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def _record(message: str, *args, exc_info=None, **extra) -> logging.LogRecord:
    record = logging.LogRecord(
        "formyard.test", logging.WARNING, __file__, 1, message, args, exc_info
    )
    record.__dict__.update(extra)
    return record


def _raised(message: str):
    try:
        raise ValueError(message)
    except ValueError:
        return sys.exc_info()


@pytest.mark.parametrize("line_break", BREAKS)
def test_a_text_record_is_one_line_whatever_its_message_and_traceback_carry(line_break):
    hostile = f"zz{line_break}{FORGED}"
    record = _record("login failed for %s", hostile, exc_info=_raised(hostile))
    line = TextFormatter().format(record)
    assert len(line.splitlines()) == 1
    assert "login failed for zz" in line
    assert escape_for_log(line_break) in line
    assert "ValueError: zz" in line  # the traceback is there, on the same line


@pytest.mark.parametrize("line_break", BREAKS)
def test_a_json_record_is_one_line_whatever_its_message_extras_and_traceback_carry(line_break):
    hostile = f"zz{line_break}{FORGED}"
    record = _record("GET %s", hostile, exc_info=_raised(hostile), path=hostile)
    line = JsonFormatter().format(record)
    assert len(line.splitlines()) == 1
    entry = json.loads(line)
    assert entry["message"] == f"GET {hostile}"  # escaped in the line, exact once parsed
    assert entry["path"] == hostile
    assert hostile in entry["exception"]


def test_escapes_are_visible_and_unambiguous():
    assert escape_for_log("a\r\nb") == "a\\r\\nb"
    assert escape_for_log("tab\there") == "tab\\there"
    assert escape_for_log("\x00\x1b[31m\x7f\x85\x9f") == "\\x00\\x1b[31m\\x7f\\x85\\x9f"
    assert escape_for_log("\u2028\u2029\u202e\u2066") == "\\u2028\\u2029\\u202e\\u2066"
    # A backslash the client typed cannot pass for an escape.
    assert escape_for_log("a\\nb") == "a\\\\nb"
    assert escape_for_log("Zoë 日本 ok") == "Zoë 日本 ok"


LOGGING_SCRIPT = """
from app import create_app
from flask import request
from app.extensions import db
from app.models import Role
from app.services.accounts import users

app = create_app(
    {"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://", "WTF_CSRF_ENABLED": False}
)
app.config["PROPAGATE_EXCEPTIONS"] = False

@app.get("/_boom")
def boom():
    raise RuntimeError(request.args["text"])

with app.app_context():
    db.create_all()
    users.create_user("owner@example.org", "Owner", "a long passphrase 42", Role.OWNER)
client = app.test_client()
client.get("/f/zz%0d%0aFORGED-PATH%E2%80%A8after")
client.get("/f/zz%0aFORGED-QUERY", query_string={"q": "a\\nFORGED-ARG"})
client.get("/healthz", headers={"X-Request-ID": "id\\x85FORGED-HEADER", "User-Agent": "ua\\x85x"})
client.post("/login", data={"email": "ann\\nFORGED-USER@example.org", "password": "x\\ny"})
client.get(
    "/_boom",
    query_string={"text": "kaboom\\nFORGED-EXCEPTION"},
    headers={"Accept": "application/json"},
)
"""


def _run_logging_script(log_format: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(LOGGING_SCRIPT)],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "LOG_FORMAT": log_format, "LOG_LEVEL": "INFO"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]


def test_text_logs_keep_each_request_on_its_own_line():
    lines = _run_logging_script("text")
    assert not [line for line in lines if line.startswith("FORGED")]
    assert not [line for line in lines if line.lstrip().startswith(("after", "Traceback", "File"))]
    requests = [line for line in lines if " INFO formyard.request " in line]
    assert len(requests) == 5, lines
    assert any("GET /f/zz\\r\\nFORGED-PATH\\u2028after 404 " in line for line in requests)
    assert any("GET /f/zz\\nFORGED-QUERY 404 " in line for line in requests)
    assert any("POST /login " in line for line in requests)
    errors = [line for line in lines if "ERROR" in line]
    assert len(errors) == 1
    assert "RuntimeError: kaboom\\nFORGED-EXCEPTION" in errors[0]


def test_json_logs_keep_each_request_on_its_own_line():
    lines = _run_logging_script("json")
    entries = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    paths = [entry["path"] for entry in entries if entry["logger"] == "formyard.request"]
    assert paths == [
        "/f/zz\r\nFORGED-PATH\u2028after",
        "/f/zz\nFORGED-QUERY",
        "/healthz",
        "/login",
        "/_boom",
    ]
    assert "\\u2028" in lines[0]  # escaped on the line, not only by the parser's leniency
    error = next(entry for entry in entries if "exception" in entry)
    assert "RuntimeError: kaboom\nFORGED-EXCEPTION" in error["exception"]


def test_gunicorn_text_lines_and_the_request_lines_stay_one_per_record(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": STRONG_KEY,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gunicorn.sqlite3'}",
        "TRUSTED_HOSTS": "127.0.0.1",
        "LOG_FORMAT": "text",
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
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/f/zz%0d%0aFORGED%C2%85x", timeout=5)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    lines = output.splitlines()
    assert any("[INFO] Starting gunicorn" in line for line in lines)  # gunicorn's own format
    assert not [line for line in lines if line.startswith(("FORGED", "x "))]
    assert any("GET /f/zz\\r\\nFORGED\\x85x " in line for line in lines), output
