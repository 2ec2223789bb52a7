"""First run in a real browser: set up the owner, sign out, sign back in, and a wrong password."""

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import PASSWORD
from tests.browser.conftest import OWNER_NAME

pytestmark = pytest.mark.browser


def sign_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def expect_dashboard(page: Page, base_url: str, name: str) -> None:
    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.get_by_text(f"Hello {name}.")).to_be_visible()


def test_owner_sets_up_signs_out_and_signs_back_in(page: Page, empty_live_server):
    base_url = empty_live_server.url
    page.goto(f"{base_url}/")
    expect(page).to_have_url(f"{base_url}/setup")
    expect(page.get_by_role("heading", name="Welcome to Formyard")).to_be_visible()

    page.get_by_label("Your name").fill("Ada Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create owner account").click()
    expect_dashboard(page, base_url, "Ada Lovelace")
    expect(page.get_by_text("Your owner account is ready.")).to_be_visible()

    page.locator("details.user-menu > summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base_url}/login")
    expect(page.get_by_text("You are signed out.")).to_be_visible()

    page.goto(f"{base_url}/")
    expect(page).to_have_url(f"{base_url}/login?next=/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    sign_in(page, "ada@example.com", PASSWORD)
    expect_dashboard(page, base_url, "Ada Lovelace")


def test_wrong_password_is_refused_with_422(page: Page, live_server, owner):
    page.goto(f"{live_server.url}/login")
    with page.expect_navigation() as navigation:
        sign_in(page, OWNER_EMAIL, "not the password at all")

    assert navigation.value.status == 422
    expect(page).to_have_url(f"{live_server.url}/login")
    expect(page.get_by_role("alert")).to_have_text("Email or password is not right.")
    expect(page.get_by_label("Email")).to_have_value(OWNER_EMAIL)
    expect(page.get_by_text(OWNER_NAME)).to_have_count(0)
