"""Fixtures for tests that drive Debian's Chromium through Playwright against a running app.

``live_server`` runs the app in a subprocess on a free loopback port, with a fresh SQLite
database per test module (``owner`` adds the owner to it); ``empty_live_server`` is a server of
the test's own with no user yet, for first-run checks. ``browser`` is one Chromium per session
and ``page`` a new page in a new context per test. Without /usr/bin/chromium the tests skip,
unless ``REQUIRE_BROWSER=1`` makes that a failure. A failing test leaves a screenshot in the
pytest temporary folder.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect
from playwright.sync_api import sync_playwright

from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import PASSWORD

PROJECT_DIR = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# Keep the browser quiet: no GPU in containers, no calls home while tests run.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 10_000
SERVER_START_TIMEOUT = 20.0
SERVER_STOP_TIMEOUT = 10.0
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
OWNER_NAME = "Olive Owner"


@dataclass(frozen=True)
class LiveServer:
    url: str
    pid: int
    database_url: str
    log_path: Path


def require_chromium() -> None:
    """Skip (fail under REQUIRE_BROWSER=1) when Debian's Chromium is not installed."""
    if os.access(CHROMIUM, os.X_OK):
        return
    missing = f"{CHROMIUM} is not installed (apt-get install chromium)"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"{missing} but REQUIRE_BROWSER=1")
    pytest.skip(missing)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "APP_ENV": "testing",
        "DATABASE_URL": database_url,
        "FLASK_APP": "wsgi",
        "PYTHONUNBUFFERED": "1",  # so the log file has everything when a test reads it
    }


def run_flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run a ``flask`` command for the live server's app, as an operator would."""
    return subprocess.run(
        [*FLASK, *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@contextmanager
def serve_app(directory: Path) -> Iterator[LiveServer]:
    """Migrate a new SQLite database in ``directory``, serve the app on it, stop it at the end."""
    database_url = f"sqlite:///{directory / 'browser.sqlite3'}"
    env = server_environment(database_url)
    upgrade = run_flask(env, "db", "upgrade")
    if upgrade.returncode != 0:
        pytest.fail(f"flask db upgrade failed:\n{upgrade.stdout}{upgrade.stderr}")

    port = free_port()
    log_path = directory / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*FLASK, "run", "--host", "127.0.0.1", "--port", str(port), "--no-reload"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process.pid, database_url, log_path)
    try:
        wait_until_healthy(server, process)
        yield server
    finally:
        stop_process(process)


def wait_until_healthy(server: LiveServer, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the app exited with {process.returncode}:\n{server_output(server)}")
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(
        f"the app did not answer /healthz in {SERVER_START_TIMEOUT:.0f} s:\n{server_output(server)}"
    )


def stop_process(process: subprocess.Popen) -> None:
    """Stop the one process we started, by its id: terminate, wait, then kill."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=SERVER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=SERVER_STOP_TIMEOUT)


def server_output(server: LiveServer) -> str:
    return server.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def browser():
    require_chromium()
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="module")
def live_server(browser, tmp_path_factory) -> Iterator[LiveServer]:
    """The app on a free loopback port with a fresh database for this test module.

    It asks for ``browser`` first so that, without Chromium, no server is started just to skip.
    """
    with serve_app(tmp_path_factory.mktemp("live_server")) as server:
        yield server


@pytest.fixture
def empty_live_server(browser, tmp_path) -> Iterator[LiveServer]:
    """A server of the test's own whose database has no user yet, for first-run checks."""
    with serve_app(tmp_path) as server:
        yield server


@pytest.fixture(scope="module")
def owner(live_server) -> str:
    """Create the owner on ``live_server`` with the ``flask users create`` command; their email."""
    env = {**server_environment(live_server.database_url), "FORMYARD_PASSWORD": PASSWORD}
    result = run_flask(
        env, "users", "create", "--email", OWNER_EMAIL, "--role", "owner", "--name", OWNER_NAME
    )
    if result.returncode != 0:
        pytest.fail(f"flask users create failed:\n{result.stdout}{result.stderr}")
    return OWNER_EMAIL


@pytest.fixture
def page(browser, request, tmp_path_factory):
    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    context = browser.new_context()
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
        save_screenshot_if_failed(page, request, tmp_path_factory)
    finally:
        context.close()


def save_screenshot_if_failed(page, request, tmp_path_factory) -> None:
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        return
    path = tmp_path_factory.mktemp("screenshots") / f"{request.node.name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot of the failed page: {path}\nits address: {page.url}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep the call phase's report on the test item, so ``page`` knows at teardown it failed.
    report = yield
    if report.when == "call":
        item.report_call = report
    return report
