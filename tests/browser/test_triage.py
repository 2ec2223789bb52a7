"""Triage in a real browser: tag a submission, write its note, filter the list by the tag; the
page passes axe and fits a 390 px phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.a11y import blocking
from tests.browser.a11y import describe_violations
from tests.browser.a11y import run_axe
from tests.browser.conftest import run_flask
from tests.browser.conftest import server_environment
from tests.browser.test_inbox import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seeded_form(live_server, owner) -> str:
    env = server_environment(live_server.database_url)
    for args in (
        ("forms", "new", "--template", "contact", "--slug", "triage", "--publish"),
        ("submissions", "seed", "triage", "--count", "12", "--days", "3"),
    ):
        result = run_flask(env, *args)
        if result.returncode != 0:
            pytest.fail(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return "triage"


def test_tag_a_submission_write_a_note_and_filter_by_the_tag(page, live_server, seeded_form):
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/forms/1/submissions")  # the module's database has this form only
    rows = page.locator("table.submissions-table tbody tr")
    expect(rows).to_have_count(12)
    rows.first.get_by_role("link").first.click()

    page.get_by_label("Add a tag").fill("  Follow UP ")
    page.get_by_role("button", name="Add tag").click()
    expect(page.get_by_text("Tagged “follow up”.")).to_be_visible()
    expect(page.locator(".tag-list")).to_contain_text("follow up")

    page.get_by_label("Add a tag").fill("")
    page.get_by_role("button", name="Add tag").click()
    expect(page.get_by_text("Enter a tag.").first).to_be_visible()

    page.get_by_label("Private note").fill("Call back <Monday>")
    page.get_by_role("button", name="Save note").click()
    expect(page.get_by_text("Saved the note.")).to_be_visible()
    expect(page.get_by_label("Private note")).to_have_value("Call back <Monday>")
    expect(page.get_by_text("Last changed by")).to_be_visible()

    violations = run_axe(page, live_server.url)
    assert blocking(violations) == [], describe_violations(violations)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the submission page is {width} px wide at 390 px"
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("link", name="follow up").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("follow up")
    expect(page.locator("#tag-filter")).to_have_value("follow up")
