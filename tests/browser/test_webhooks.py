"""Webhooks in a real browser: add one, copy its secret, send a test event, read the log."""

import re

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect
from standardwebhooks import Webhook

from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import PASSWORD
from tests.browser.conftest import run_flask
from tests.browser.conftest import serve_app
from tests.browser.conftest import server_environment
from tests.delivery_helpers import Reply
from tests.delivery_helpers import receiver_fixture  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(browser, tmp_path_factory):
    """This module's server may call the receiver on loopback, as in development."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WEBHOOK_ALLOW_PRIVATE", "1")
        with serve_app(tmp_path_factory.mktemp("webhooks_server")) as server:
            yield server


@pytest.fixture(scope="module")
def form_id(live_server, owner) -> int:
    created = run_flask(
        server_environment(live_server.database_url),
        "forms", "new", "--template", "contact", "--slug", "contact", "--publish",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    return 1  # the first form of this module's fresh database


def sign_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_add_a_webhook_send_a_test_event_and_read_the_log(
    page: Page, live_server, form_id, receiver
):
    receiver.script(Reply(200, b'{"thanks": "received"}'))
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/forms/{form_id}/webhooks")
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    expect(page.get_by_text("No webhooks yet.")).to_be_visible()

    page.get_by_label("Address (URL)").fill(receiver.url)
    page.get_by_label("Format").select_option(label="Formyard JSON (signed)")
    page.get_by_role("button", name="Add webhook").click()
    expect(page.get_by_role("heading", name="Webhook added")).to_be_visible()
    secret = page.locator("code.secret").inner_text()
    assert secret.startswith("whsec_")
    expect(page.get_by_text("This is the only time it is shown.")).to_be_visible()

    page.get_by_role("link", name="Go to the webhook").click()
    expect(page.get_by_text("Nothing sent yet.")).to_be_visible()
    expect(page.get_by_text(secret)).to_have_count(0)
    page.get_by_role("button", name="Send test event").click()
    expect(page.get_by_text("Test event queued.")).to_be_visible()
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("test")
    expect(row).to_contain_text("not tried yet")

    # In production `flask worker` runs all the time; here one pass of it sends the event.
    sent = run_flask(server_environment(live_server.database_url), "worker", "--once")
    assert "Handled 1 deliveries." in sent.stdout, sent.stderr

    page.reload()
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("delivered")
    expect(row.locator("strong")).to_have_text("200")
    expect(row).to_contain_text(re.compile(r"\d+ ms"))
    row.get_by_text("Response").click()
    expect(row.locator("pre")).to_have_text('{"thanks": "received"}')

    [request] = receiver.requests
    assert request.headers["X-Formyard-Event"] == "test"
    expect(row).to_contain_text(request.headers["webhook-id"])
    assert Webhook(secret).verify(request.body, request.headers)["event"] == "test"
