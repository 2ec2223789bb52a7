"""Every admin page on a phone (390 px) and on a desktop: no sideways page scroll, the inbox
filter bar and the summary as a person sees them, and axe-core on the pages they use daily.

The screenshots of the filter bar and the summary are saved under pytest's temporary folder and
their paths printed (``pytest -s`` shows them), so that a person can look at them.
"""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from playwright.sync_api import expect

from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import PASSWORD
from tests.browser.a11y import blocking
from tests.browser.a11y import describe_violations
from tests.browser.a11y import run_axe
from tests.browser.conftest import run_flask
from tests.browser.conftest import server_environment

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
EDITOR_EMAIL = "rosalind.editor-with-a-long-address@example.org"
# Long labels and many questions make the inbox table far wider than a phone.
WIDE_FORM = {
    "formyard": 1,
    "title": "Volunteer registration for the summer festival",
    "slug": "volunteers",
    "status": "open",
    "fields": [
        {"key": "full_name", "type": "short_text", "label": "Full name as on your ID"},
        {"key": "email", "type": "email", "label": "Email address we can reach you at"},
        {"key": "phone", "type": "phone", "label": "Mobile phone number"},
        {
            "key": "shift",
            "type": "single_choice",
            "label": "Which shift would you like to take?",
            "rules": {"choices": ["Morning", "Afternoon", "Evening", "Night"]},
        },
        {
            "key": "roles",
            "type": "multiple_choice",
            "label": "Roles you would enjoy",
            "rules": {
                "choices": ["Bar", "Tickets", "Stage crew", "First aid", "Cleaning"],
                "max_picks": 2,
            },
        },
        {
            "key": "tshirt",
            "type": "dropdown",
            "label": "T-shirt size",
            "rules": {"choices": ["XS", "S", "M", "L", "XL", "XXL"]},
        },
        {"key": "experience", "type": "long_text", "label": "Past volunteering experience"},
        {"key": "website", "type": "url", "label": "Website or social profile"},
        {"key": "arrival", "type": "date", "label": "Day you arrive"},
        {"key": "hours", "type": "number", "label": "Hours you can give per day"},
        {
            "key": "happiness",
            "type": "rating",
            "label": "How happy were you last year?",
            "rules": {"scale": "stars"},
        },
        {"key": "notes", "type": "long_text", "label": "Anything else we should know?"},
    ],
}


@pytest.fixture(scope="module")
def admin_data(live_server, owner, tmp_path_factory) -> dict[str, int]:
    """A wide form with 80 submissions, a feedback form, a second user and an API token."""
    env = server_environment(live_server.database_url)
    definition = tmp_path_factory.mktemp("definitions") / "volunteers.json"
    definition.write_text(json.dumps(WIDE_FORM))
    for args in (
        ("forms", "import", str(definition)),
        ("submissions", "seed", "volunteers", "--count", "80", "--days", "20"),
        ("forms", "new", "--template", "feedback", "--slug", "feedback", "--publish"),
        ("submissions", "seed", "feedback", "--count", "40", "--days", "10"),
        ("users", "create", "--email", EDITOR_EMAIL, "--role", "editor", "--name", "Rosalind"),
        ("tokens", "create", "--email", OWNER_EMAIL, "--scope", "write", "--name", "Nightly CRM"),
    ):
        result = run_flask({**env, "FORMYARD_PASSWORD": PASSWORD}, *args)
        if result.returncode != 0:
            pytest.fail(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    database = live_server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        ids = dict(connection.execute("SELECT slug, id FROM forms"))
        ids["editor"] = connection.execute(
            "SELECT id FROM users WHERE email = ?", (EDITOR_EMAIL,)
        ).fetchone()[0]
        ids["submission"] = connection.execute(
            "SELECT max(id) FROM submissions WHERE form_id = ? AND NOT is_spam",
            (ids["volunteers"],),
        ).fetchone()[0]
    return ids


def admin_paths(ids: dict[str, int]) -> list[str]:
    form = ids["volunteers"]
    return [
        "/",
        "/inbox",
        "/forms",
        "/forms/new",
        "/forms/trash",
        f"/forms/{form}",
        f"/forms/{form}/fields/roles",
        f"/forms/{form}/flow",
        f"/forms/{form}/settings",
        f"/forms/{form}/share",
        f"/forms/{form}/notifications",
        f"/forms/{form}/webhooks",
        f"/forms/{form}/submissions",
        f"/forms/{form}/submissions?folder=spam",
        f"/forms/{form}/submissions/{ids['submission']}",
        f"/forms/{form}/summary",
        f"/forms/{ids['feedback']}/summary",
        "/users",
        "/users/new",
        "/users/invite",
        f"/users/{ids['editor']}",
        "/account",
        "/account/password",
    ]


def sign_in(page, live_server) -> None:
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(f"{live_server.url}/login")


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_no_admin_page_scrolls_sideways_on_a_phone(page, live_server, admin_data):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server)
    too_wide = {}
    for path in admin_paths(admin_data):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        width = page_width(page)
        if width > PHONE["width"]:
            too_wide[path] = width
    assert too_wide == {}


def boxes_overlap(first: dict, second: dict) -> bool:
    return not (
        first["x"] + first["width"] <= second["x"]
        or second["x"] + second["width"] <= first["x"]
        or first["y"] + first["height"] <= second["y"]
        or second["y"] + second["height"] <= first["y"]
    )


def save_screenshot(page, tmp_path_factory, name: str, *, full_page: bool = False) -> None:
    path = tmp_path_factory.mktemp("admin_screenshots") / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    print(f"screenshot: {path}")


def test_filter_bar_reads_at_a_glance_on_a_desktop_and_a_phone(
    page, live_server, admin_data, tmp_path_factory
):
    sign_in(page, live_server)
    address = f"{live_server.url}/forms/{admin_data['volunteers']}/submissions"
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        page.goto(address)
        bar = page.get_by_role("search")
        by_answer = bar.locator("summary", has_text="Filter by answer").bounding_box()
        columns = bar.locator("summary", has_text="Columns").bounding_box()
        assert not boxes_overlap(by_answer, columns)
        expect(bar.get_by_role("button")).to_have_count(1)
        expect(bar.get_by_role("button", name="Apply", exact=True)).to_be_visible()
        clear = bar.get_by_role("link", name="Clear filters")
        line_height = clear.evaluate("link => parseFloat(getComputedStyle(link).lineHeight)")
        assert clear.bounding_box()["height"] < 1.5 * line_height  # one line, not wrapped
        starred = bar.get_by_role("checkbox", name="Starred only")
        radius = starred.evaluate("box => getComputedStyle(box).borderTopLeftRadius")
        assert radius != "50%" and float(radius.removesuffix("px")) < 8  # a box, not a circle
        save_screenshot(page, tmp_path_factory, f"filter-bar-{size['width']}")
        assert page_width(page) <= size["width"]


def test_filter_bar_works_without_javascript(browser, live_server, admin_data):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        sign_in(page, live_server)
        page.goto(f"{live_server.url}/forms/{admin_data['volunteers']}/submissions")
        bar = page.get_by_role("search")
        bar.get_by_label("Starred only").check()
        bar.locator("summary", has_text="Columns").click()
        for label in ("Email address we can reach you at", "Mobile phone number"):
            bar.get_by_label(label).uncheck()
        bar.get_by_role("button", name="Apply").click()
        expect(page).to_have_url(re.compile(r"starred=1"))
        rows = page.locator("table.submissions-table tbody tr")
        assert rows.count() > 0
        expect(rows.locator(".star")).to_have_count(rows.count())
        headers = page.locator("table.submissions-table thead th").all_inner_texts()
        assert "Full name as on your ID" in headers
        assert "Mobile phone number" not in headers
        expect(page.get_by_role("search").locator("summary", has_text="Columns")).to_contain_text(
            "2 of 12 shown"
        )
    finally:
        context.close()


def test_summary_is_about_a_screen_per_question_at_most(
    page, live_server, admin_data, tmp_path_factory
):
    sign_in(page, live_server)
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        page.goto(f"{live_server.url}/forms/{admin_data['volunteers']}/summary")
        questions = page.locator("section.question-summary")
        expect(questions).to_have_count(12)
        for section in questions.all():
            assert section.bounding_box()["height"] <= size["height"], section.inner_text()[:80]
        assert page_width(page) <= size["width"]
        expect(page.locator("details.chart-numbers").first).not_to_have_attribute("open", "")
        expect(page.locator("#chart-per-day-table")).to_be_hidden()
        shift = page.locator("#chart-shift-table")
        expect(shift.get_by_role("rowheader", name="Morning")).to_be_visible()
        expect(shift.locator("td.share").first).to_have_text(re.compile(r"^(<1|\d{1,3})%$"))
        notes = page.locator("section.question-summary", has=page.locator("#q-notes"))
        expect(notes.get_by_role("heading", name="Latest answers")).to_be_visible()
        expect(notes.locator("ol.latest-answers li")).to_have_count(5)
        save_screenshot(page, tmp_path_factory, f"summary-{size['width']}", full_page=True)


@pytest.mark.parametrize(
    "path",
    [
        "/forms/{volunteers}/submissions",
        "/forms/{volunteers}/summary",
        "/forms/{feedback}/summary",
        "/forms/{volunteers}",
        "/users",
        "/account",
    ],
)
def test_axe_finds_nothing_serious_on_a_phone(page, live_server, admin_data, path):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}{path.format(**admin_data)}")
    serious = blocking(run_axe(page, live_server.url))
    assert serious == [], describe_violations(serious)


def test_a_stars_rating_is_stars_that_arrow_keys_move(
    page, live_server, admin_data, tmp_path_factory
):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/f/feedback")
    satisfaction = page.get_by_role("group", name="How satisfied are you overall?")
    stars = satisfaction.get_by_role("radio")
    expect(stars).to_have_count(5)
    satisfaction.locator("label", has=page.get_by_label("3 of 5 stars")).click()
    expect(page.get_by_label("3 of 5 stars")).to_be_checked()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_label("4 of 5 stars")).to_be_checked()
    page.mouse.move(0, 0)  # a star under the pointer lights up as a preview
    filled = satisfaction.locator(".star-glyph").evaluate_all(
        "glyphs => glyphs.map(glyph => getComputedStyle(glyph).color)"
    )
    assert len(set(filled[:4])) == 1 and filled[4] != filled[0]  # four filled, the fifth not
    save_screenshot(page, tmp_path_factory, "stars-390")
    serious = blocking(run_axe(page, live_server.url))
    assert serious == [], describe_violations(serious)
    assert page_width(page) <= PHONE["width"]
