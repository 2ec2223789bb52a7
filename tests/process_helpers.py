"""Real processes on loopback for the Procfile and scale-out tests: a PostgreSQL database of the
test's own, programs started and stopped by their process id, and plain HTTP calls.

These tests need PostgreSQL and Redis (``TEST_DATABASE_URL``, ``REDIS_URL``) and some programs
(honcho, nginx); without them they skip, unless ``REQUIRE_SERVICES=1`` makes that a failure.
Every server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from contextlib import suppress
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import pytest
from sqlalchemy import create_engine
from sqlalchemy import text

from config import normalize_database_url
from tests.database_helpers import require_service

PROJECT_DIR = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def require_program(path: str | Path) -> str:
    """The program's path, or skip (fail under REQUIRE_SERVICES=1) when it is not installed."""
    if os.access(path, os.X_OK):
        return str(path)
    message = f"{path} is not installed"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} but REQUIRE_SERVICES=1")
    pytest.skip(message)


def require_postgresql_and_redis() -> None:
    """Skip (fail under REQUIRE_SERVICES=1) unless both TEST_DATABASE_URL and REDIS_URL are set."""
    require_service("TEST_DATABASE_URL")
    require_service("REDIS_URL")


def program_environment(settings: dict[str, str]) -> dict[str, str]:
    """This environment with ``settings`` on top, and the virtualenv's programs first on PATH,
    as the Procfile's ``gunicorn`` and ``flask`` expect."""
    return {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "FLASK_APP": "wsgi",
        "PYTHONUNBUFFERED": "1",  # so a log read after a failure has everything
        **settings,
    }


def production_settings(database_url: str, base_url: str) -> dict[str, str]:
    """What an operator sets in production, pointed at loopback services of the test's own."""
    return {
        "APP_ENV": "production",
        "SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        "DATABASE_URL": database_url,
        "REDIS_URL": require_service("REDIS_URL"),
        # Counts of this test alone, whatever else shares the Redis database.
        "RATELIMIT_KEY_PREFIX": f"formyard-test-{uuid.uuid4().hex[:8]}:",
        "BASE_URL": base_url,
        "TRUSTED_HOSTS": "127.0.0.1",
        "WEBHOOK_ALLOW_PRIVATE": "1",  # the receiver is on loopback
        "WORKER_POLL_SECONDS": "1",
        "WEB_CONCURRENCY": "1",
    }


def loopback_gunicorn(port: int) -> dict[str, str]:
    """Settings that keep a ``gunicorn wsgi:app`` started by a test to itself.

    gunicorn.conf.py binds every interface on $PORT, as platforms need; GUNICORN_CMD_ARGS,
    which gunicorn reads after its config file, binds loopback instead. Without
    ``--no-control-socket`` every gunicorn shares ~/.gunicorn/gunicorn.ctl, and one stopping
    would remove another's.
    """
    return {"GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} --no-control-socket"}


# --- PostgreSQL --------------------------------------------------------------------------------


@contextmanager
def scratch_database(label: str) -> Iterator[str]:
    """A new, empty PostgreSQL database beside TEST_DATABASE_URL's, named after ``label`` and the
    xdist worker so parallel runs keep apart; dropped at the end."""
    base_url = require_service("TEST_DATABASE_URL")
    parts = urlsplit(base_url)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{parts.path.lstrip('/')}_{label}_{worker}"
    admin = create_engine(normalize_database_url(base_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            # WITH (FORCE): a process left over from an interrupted run may still be connected.
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- processes ---------------------------------------------------------------------------------


@dataclass
class Program:
    """A program the test started, in a process group of its own, its output in a file."""

    process: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_program(argv: list[str], env: dict[str, str], log_path: Path) -> Program:
    with log_path.open("w") as log:
        process = subprocess.Popen(
            argv,
            cwd=PROJECT_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stopping it reaches its children
        )
    return Program(process, log_path)


def stop_program(program: Program, timeout: float = STOP_TIMEOUT) -> bool:
    """SIGTERM to the program's process group, a wait, then SIGKILL to what is left of it.
    Whether the program had ended by itself within ``timeout``."""
    if program.process.poll() is None:
        signal_group(program.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            program.process.wait(timeout=timeout)
    graceful = program.process.poll() is not None
    # The group may outlive its leader (a gunicorn worker finishing a request, say).
    signal_group(program.pid, signal.SIGKILL)
    if not graceful:
        program.process.wait(timeout=timeout)
    return graceful


def signal_group(group_id: int, signum: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(group_id, signum)


def run_program(
    argv: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a command to its end; fail the test with its output when it does not succeed."""
    result = subprocess.run(
        argv, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        pytest.fail(f"{' '.join(argv)} exited with {result.returncode}:\n{result.stdout}")
    return result


def wait_until(
    condition: Callable[[], Any], timeout: float, what: str, details: Callable[[], str] = str
) -> Any:
    """Poll ``condition`` until it returns something true; fail after ``timeout`` seconds, with
    what ``details`` says then (a program's output, say)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout:.0f} s waiting for {what}\n{details()}")
        time.sleep(0.1)


def wait_until_healthy(url: str, *programs: Program, timeout: float = START_TIMEOUT) -> None:
    """Wait for ``url``/healthz to answer 200; fail with the programs' output if they exit."""

    def healthy() -> bool:
        for program in programs:
            if program.process.poll() is not None:
                pytest.fail(f"{program.process.args} exited early:\n{program.output()}")
        try:
            return fetch("GET", f"{url}/healthz").status == 200
        except OSError:
            return False

    wait_until(healthy, timeout, f"{url}/healthz", lambda: "\n".join(p.output() for p in programs))


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a TCP socket listening on ``port``, read from /proc."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(_address_from_hex(address, width))
    return found


def _address_from_hex(address: str, width: int) -> str:
    if width == 8:
        return ".".join(str(byte) for byte in reversed(bytes.fromhex(address)))
    return "ipv6:" + address


# --- HTTP --------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


def fetch(
    method: str,
    url: str,
    *,
    form: dict[str, str] | None = None,
    json_body: Any = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One HTTP request on a new connection, redirects not followed."""
    parts = urlsplit(url)
    headers = dict(headers or {})
    body = None
    if form is not None:
        body = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif json_body is not None:
        body = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path or "/", body=body, headers=headers)
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


class Browser:
    """Keeps cookies between requests like a browser on plain HTTP, for any host it is told to
    call (the Secure flag aside: these servers are on loopback)."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(self, method: str, url: str, **options: Any) -> Reply:
        headers = dict(options.pop("headers", None) or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        reply = fetch(method, url, headers=headers, **options)
        for header in reply.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:  # deleted
                    self.cookies.pop(name, None)
        return reply
