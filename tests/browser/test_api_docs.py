"""The API's documentation page in a real browser: it renders under the site's strict
Content-Security-Policy, and "Try it out" calls the API with a token made on the command line."""

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.auth_helpers import OWNER_EMAIL
from tests.browser.conftest import run_flask
from tests.browser.conftest import server_environment

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def token(live_server, owner) -> str:
    created = run_flask(
        server_environment(live_server.database_url),
        "tokens", "create", "--email", OWNER_EMAIL, "--scope", "read", "--name", "docs page",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()


def test_docs_page_renders_without_breaking_the_policy(page: Page, live_server):
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{live_server.url}/api/docs")
    expect(page.get_by_role("heading", name="Formyard API")).to_be_visible()
    expect(page.get_by_text("/api/v1/forms/{form_id}/submissions").first).to_be_visible()
    page.get_by_text("List a form's submissions").click()
    expect(page.get_by_text("next_cursor").first).to_be_visible()
    assert not [text for text in problems if "Content Security Policy" in text], problems


def test_try_it_out_calls_the_api_with_a_token(page: Page, live_server, token):
    page.goto(f"{live_server.url}/api/docs")
    page.get_by_role("button", name="Authorize").first.click()
    page.locator(".auth-container input").fill(token)
    page.locator(".auth-btn-wrapper button.authorize").click()
    page.locator(".auth-btn-wrapper button.btn-done").click()

    page.locator(".opblock-summary", has_text="List forms").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    status = page.locator(".live-responses-table tbody .response-col_status").first
    expect(status).to_have_text("200")
