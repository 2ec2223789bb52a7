"""Formspree's own JavaScript client (@formspree/core, from npm, vendored for tests) pointed at
Formyard from a page of another website: a site switches by changing only the endpoint, and
the client reports success, field errors, a file and a closed form as it does on Formspree."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page
from sqlalchemy import create_engine
from sqlalchemy import text

from tests.browser.conftest import free_port
from tests.browser.conftest import run_flask
from tests.browser.conftest import server_environment
from tests.browser.conftest import stop_process
from tests.browser.test_endpoint import wait_until_serving

pytestmark = pytest.mark.browser
VENDOR = Path(__file__).parent / "vendor"
OPEN_SLUG = "newsletter"
CLOSED_SLUG = "old-contact"

# The site's page loads the client as a module and offers one function the test calls, so what
# the test reads is exactly what the client reports to a site's own code.
CLIENT_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Subscribe</title></head>
<body>
<main><h1>Subscribe</h1></main>
<script type="module">
import { createClient } from "./formspree-core.mjs";

window.send = async ({ slug, fields, file, project }) => {
  const client = createClient(project ? { project } : {});
  let body = fields;
  if (file) {
    body = new FormData();
    for (const [name, value] of Object.entries(fields)) body.append(name, value);
    body.append(file.name, new File([file.content], file.filename, { type: file.type }));
  }
  const result = await client.submitForm(slug, body, { endpoint: "{endpoint}" });
  if (result.kind === "success") return { kind: result.kind, next: result.next };
  return {
    kind: result.kind,
    formErrors: result.getFormErrors(),
    fieldErrors: Object.fromEntries(result.getAllFieldErrors()),
  };
};
window.ready = true;
</script>
</body>
</html>
"""


@pytest.fixture(scope="module")
def endpoints(live_server, tmp_path_factory) -> str:
    """Two endpoints made with ``flask forms import``: one open, with no list of websites (so
    any may post), one closed."""
    folder = tmp_path_factory.mktemp("definitions")
    for slug, status in ((OPEN_SLUG, "open"), (CLOSED_SLUG, "closed")):
        definition = {
            "formyard": 1, "slug": slug, "title": slug.title(), "kind": "endpoint",
            "status": status, "fields": [],
        }  # fmt: skip
        path = folder / f"{slug}.json"
        path.write_text(json.dumps(definition), encoding="utf-8")
        result = run_flask(
            server_environment(live_server.database_url), "forms", "import", str(path)
        )
        if result.returncode != 0:
            pytest.fail(f"flask forms import failed:\n{result.stdout}{result.stderr}")
    return live_server.url


@pytest.fixture(scope="module")
def site(endpoints, tmp_path_factory) -> Iterator[str]:
    """Another website (another loopback port) serving the page and the client."""
    folder = tmp_path_factory.mktemp("client_site")
    (folder / "subscribe.html").write_text(CLIENT_PAGE.replace("{endpoint}", endpoints))
    shutil.copy(VENDOR / "formspree-core.mjs", folder / "formspree-core.mjs")
    port = free_port()
    log_path = folder.parent / "client_site.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(f"{url}/subscribe.html", process, log_path)
        yield url
    finally:
        stop_process(process)


def send(page: Page, site: str, **request) -> dict:
    if not page.url.startswith(site):
        page.goto(f"{site}/subscribe.html")
        page.wait_for_function("window.ready === true")
    return page.evaluate("request => window.send(request)", request)


def stored(live_server, slug: str) -> list[tuple[dict, list[str]]]:
    """Each submission's answers and its files' names, oldest first, read from the database."""
    engine = create_engine(live_server.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT s.id, s.answers FROM submissions s JOIN forms f ON f.id = s.form_id "
                    "WHERE f.slug = :slug ORDER BY s.id"
                ),
                {"slug": slug},
            ).all()
            files = connection.execute(
                text("SELECT submission_id, filename FROM stored_files ORDER BY id")
            ).all()
    finally:
        engine.dispose()
    names = {}
    for submission_id, filename in files:
        names.setdefault(submission_id, []).append(filename)
    return [(json.loads(answers), names.get(row_id, [])) for row_id, answers in rows]


def test_valid_answers_are_a_success_with_the_next_page(page: Page, live_server, site):
    result = send(page, site, slug=OPEN_SLUG, fields={"email": "ana@example.org", "topic": "News"})
    assert result == {"kind": "success", "next": f"{live_server.url}/f/{OPEN_SLUG}/thanks"}
    assert stored(live_server, OPEN_SLUG)[-1] == ({"email": "ana@example.org", "topic": "News"}, [])


def test_a_project_form_address_works_too(page: Page, live_server, site):
    result = send(page, site, slug=OPEN_SLUG, project="abc123", fields={"email": "bo@example.org"})
    assert result["kind"] == "success"
    assert stored(live_server, OPEN_SLUG)[-1] == ({"email": "bo@example.org"}, [])


def test_invalid_answers_are_field_errors_the_client_knows(page: Page, live_server, site):
    before = stored(live_server, OPEN_SLUG)
    result = send(page, site, slug=OPEN_SLUG, fields={"email": "not an address"})
    assert result["kind"] == "error"
    assert result["fieldErrors"] == {
        "email": [{"code": "TYPE_EMAIL", "message": "Enter a valid email address."}]
    }
    assert stored(live_server, OPEN_SLUG) == before


def test_a_file_is_kept(page: Page, live_server, site):
    file = {"name": "notes", "filename": "notes.txt", "type": "text/plain", "content": "Hello!"}
    result = send(page, site, slug=OPEN_SLUG, fields={"email": "cy@example.org"}, file=file)
    assert result["kind"] == "success"
    answers, files = stored(live_server, OPEN_SLUG)[-1]
    assert answers["email"] == "cy@example.org"
    assert files == ["notes.txt"]


def test_a_closed_form_is_a_form_error_the_client_knows(page: Page, live_server, site):
    result = send(page, site, slug=CLOSED_SLUG, fields={"email": "dee@example.org"})
    assert result["kind"] == "error"
    [error] = result["formErrors"]
    assert error["code"] == "INACTIVE"
    assert "closed" in error["message"].lower()
    assert stored(live_server, CLOSED_SLUG) == []
