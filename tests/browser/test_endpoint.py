"""A static website posts to a form endpoint: a plain HTML form that comes back to the site's
own thank-you page, and a script that sends JSON across origins (CORS)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import PASSWORD
from tests.browser.conftest import SERVER_START_TIMEOUT
from tests.browser.conftest import free_port
from tests.browser.conftest import run_flask
from tests.browser.conftest import server_environment
from tests.browser.conftest import stop_process

pytestmark = pytest.mark.browser
SLUG = "site-contact"
TITLE = "Website contact"

CONTACT_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Contact us</title></head>
<body>
<main>
  <h1>Contact us</h1>
  <form action="{action}" method="POST">
    <label for="name">Name</label> <input id="name" name="name">
    <label for="email">Email</label> <input id="email" name="email" type="email">
    <label for="message">Message</label> <textarea id="message" name="message"></textarea>
    <input type="hidden" name="_next" value="/thanks.html">
    <button type="submit">Send</button>
  </form>
</main>
</body>
</html>
"""
THANKS_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Thanks</title></head>
<body><main><h1>Thanks for writing to us</h1></main></body>
</html>
"""
SCRIPTED_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Quick question</title></head>
<body>
<main>
  <h1>Quick question</h1>
  <form id="question" action="{action}" method="POST">
    <label for="name">Name</label> <input id="name" name="name">
    <label for="email">Email</label> <input id="email" name="email" type="email">
    <label for="message">Message</label> <textarea id="message" name="message"></textarea>
    <button type="submit">Ask</button>
  </form>
  <p>Answer: <output id="answer" aria-live="polite"></output></p>
</main>
<script src="question.js"></script>
</body>
</html>
"""
# The site's own script, as a Formspree user would write it: the page stays, the reply shows.
SCRIPT = """
const form = document.getElementById("question");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const response = await fetch(form.action, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Accept": "application/json" },
    body: JSON.stringify(Object.fromEntries(new FormData(form))),
  });
  const text = (await response.text()).trim();
  document.getElementById("answer").textContent = `${response.status} ${text}`;
});
"""


@dataclass(frozen=True)
class StaticSite:
    url: str


@pytest.fixture(scope="module")
def site_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def endpoint_url(live_server, owner, site_port, tmp_path_factory) -> str:
    """An endpoint that takes posts from the static site, created with ``flask forms import``."""
    definition = {
        "formyard": 1,
        "slug": SLUG,
        "title": TITLE,
        "kind": "endpoint",
        "status": "open",
        "settings": {"allowed_origins": [f"http://127.0.0.1:{site_port}"]},
        "fields": [],
    }
    path = tmp_path_factory.mktemp("definitions") / f"{SLUG}.json"
    path.write_text(json.dumps(definition), encoding="utf-8")
    result = run_flask(server_environment(live_server.database_url), "forms", "import", str(path))
    if result.returncode != 0:
        pytest.fail(f"flask forms import failed:\n{result.stdout}{result.stderr}")
    return f"{live_server.url}/f/{SLUG}"


@pytest.fixture(scope="module")
def static_site(endpoint_url, site_port, tmp_path_factory) -> Iterator[StaticSite]:
    """The website: plain files served by Python's http.server on another loopback port."""
    folder = tmp_path_factory.mktemp("static_site")
    (folder / "contact.html").write_text(CONTACT_PAGE.format(action=endpoint_url))
    (folder / "thanks.html").write_text(THANKS_PAGE)
    (folder / "question.html").write_text(SCRIPTED_PAGE.format(action=endpoint_url))
    (folder / "question.js").write_text(SCRIPT)
    log_path = folder.parent / "static_site.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(site_port)],
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    site = StaticSite(f"http://127.0.0.1:{site_port}")
    try:
        wait_until_serving(f"{site.url}/thanks.html", process, log_path)
        yield site
    finally:
        stop_process(process)


def wait_until_serving(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"http.server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(f"http.server did not answer {url}:\n{log_path.read_text()}")


def fill_in(page: Page, name: str, email: str, message: str) -> None:
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Message").fill(message)


def expect_stored(page: Page, base_url: str, answers: dict[str, str]) -> None:
    """Sign in as the owner and find the submission with these answers in the inbox."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.get_by_role("link", name="Inbox", exact=True).click()
    page.get_by_role("link", name=TITLE).first.click()
    page.get_by_label("Search answers").fill(answers["message"])
    page.get_by_role("button", name="Apply", exact=True).first.click()
    rows = page.locator("table.submissions-table tbody tr")
    expect(rows).to_have_count(1)
    rows.first.locator("a").first.click()
    listing = page.locator("section[aria-labelledby=answers-heading] dl")
    for key, value in answers.items():
        term = listing.locator("dt", has_text=re.compile(f"^{re.escape(key)}$"))
        expect(term).to_have_count(1)
        expect(term.locator("xpath=following-sibling::dd[1]")).to_have_text(value)


def test_a_plain_html_form_posts_and_comes_back_to_the_site(page: Page, live_server, static_site):
    page.goto(f"{static_site.url}/contact.html")
    answers = {"name": "Rui Costa", "email": "rui@example.org", "message": "Plain form hello"}
    fill_in(page, *answers.values())
    page.get_by_role("button", name="Send").click()

    # _next is a bare path: it is resolved against the page the post came from.
    expect(page).to_have_url(f"{static_site.url}/thanks.html")
    expect(page.get_by_role("heading", name="Thanks for writing to us")).to_be_visible()
    expect_stored(page, live_server.url, answers)


def test_a_script_posts_json_across_origins(page: Page, live_server, static_site):
    page.goto(f"{static_site.url}/question.html")
    answers = {"name": "Ines Sa", "email": "ines@example.org", "message": "Scripted hello"}
    fill_in(page, *answers.values())
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.get_by_role("button", name="Ask").click()

    expect(page.locator("#answer")).to_have_text(re.compile(r'^200 \{.*"ok": ?true\b.*\}$'))
    headers = posted.value.headers
    assert headers["access-control-allow-origin"] == static_site.url
    expect(page).to_have_url(f"{static_site.url}/question.html")
    expect_stored(page, live_server.url, answers)
