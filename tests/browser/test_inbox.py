"""An admin reads the inbox in a real browser: search, open, star, export CSV, see the charts."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import PASSWORD
from tests.browser.conftest import run_flask
from tests.browser.conftest import server_environment

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seeded_form(live_server, owner) -> str:
    env = server_environment(live_server.database_url)
    for args in (
        ("forms", "new", "--template", "feedback", "--slug", "feedback", "--publish"),
        ("submissions", "seed", "feedback", "--count", "1500", "--days", "60"),
    ):
        result = run_flask(env, *args)
        if result.returncode != 0:
            pytest.fail(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return "feedback"


def sign_in(page, live_server) -> None:
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(f"{live_server.url}/login")


def test_admin_searches_opens_stars_exports_and_charts(page, live_server, seeded_form):
    problems: list[str] = []
    page.on(
        "response",
        lambda response: (
            response.status >= 400
            and not response.url.endswith("/favicon.ico")
            and problems.append(f"{response.status} {response.url}")
        ),
    )
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and not message.text.startswith("Failed to load resource")
            and problems.append(message.text)
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_in(page, live_server)

    page.get_by_role("link", name="Inbox", exact=True).click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    page.get_by_role("link", name="Feedback").first.click()
    rows = page.locator("table.submissions-table tbody tr")
    expect(rows).to_have_count(50)

    page.get_by_label("Search answers").fill("Lisbon")
    page.get_by_role("button", name="Apply", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"q=Lisbon"))
    found = rows.count()
    assert 0 < found < 50

    starred_before = page.locator("table.submissions-table .star").count()
    rows.filter(has_not=page.locator(".star")).first.locator("a").first.click()
    expect(page.get_by_role("heading", name="Answers")).to_be_visible()
    expect(page.get_by_text("Lisbon").first).to_be_visible()
    page.get_by_role("button", name="☆ Star").click()
    expect(page.get_by_text("Starred 1 submission.")).to_be_visible()
    expect(page.get_by_role("button", name="★ Starred · remove star")).to_be_visible()

    page.get_by_role("link", name="↑ Back to the list").click()
    expect(page.locator("table.submissions-table .star")).to_have_count(starred_before + 1)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV", exact=True).click()
    download = download_info.value
    assert download.suggested_filename.startswith("feedback-submissions-")
    with open(download.path(), encoding="utf-8", newline="") as file:
        exported = list(csv.reader(io.StringIO(file.read())))
    assert exported[0][:3] == ["Submission ID", "Received", "Version"]
    assert len(exported) == found + 1
    expect(page.get_by_text(f"Export ready: {found} rows")).to_be_visible()

    page.get_by_role("link", name="Summary").click()
    expect(page.locator("canvas#chart-per-day[data-drawn='true']")).to_be_visible()
    nps_table = page.locator("#chart-nps-table")
    expect(nps_table.get_by_role("rowheader", name="10", exact=True)).to_be_visible()
    last_count = nps_table.locator("tbody tr").last.locator("td.count").inner_text()
    assert int(last_count.replace(",", "")) > 0
    expect(page.get_by_text("NPS", exact=False).first).to_be_visible()
    assert problems == []
