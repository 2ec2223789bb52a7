"""One-time secrets are shown once: a button copies each to the clipboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import PASSWORD
from tests.browser.a11y import blocking
from tests.browser.a11y import describe_violations
from tests.browser.a11y import run_axe

pytestmark = pytest.mark.browser


def test_a_new_api_token_is_copied_with_one_press(browser, live_server, owner):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login")
        page.get_by_label("Email").fill(OWNER_EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{live_server.url}/account")
        page.get_by_label("Token name").fill("CRM sync")
        page.get_by_role("button", name="Create token").click()
        expect(page.get_by_role("heading", name="Token created")).to_be_visible()
        token = page.locator("#new-token").inner_text().strip()
        assert token

        page.get_by_role("button", name="Copy the token").click()
        expect(page.locator("[data-copy-status]")).to_have_text("Copied.")
        assert page.evaluate("navigator.clipboard.readText()") == token
        serious = blocking(run_axe(page, live_server.url))
        assert not serious, describe_violations(serious)
    finally:
        context.close()
