"""A respondent in a real browser: a form with a question of every kind, mistakes explained on
the page, a complete answer with a photo, the keyboard alone, and axe-core's audit."""

from __future__ import annotations

import json
import re
import struct
import zlib
from pathlib import Path

import pytest
from playwright.sync_api import Locator
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import PASSWORD
from tests.browser.a11y import blocking
from tests.browser.a11y import describe_violations
from tests.browser.a11y import run_axe
from tests.browser.conftest import run_flask
from tests.browser.conftest import server_environment

pytestmark = pytest.mark.browser
SLUG = "community-day"
TITLE = "Community day survey"
CONFIRMATION = "We read every answer. See you at the next meetup!"
DEFINITION = {
    "formyard": 1,
    "slug": SLUG,
    "title": TITLE,
    "description": "Tell us how the day went.",
    "kind": "built",
    "status": "open",
    "settings": {"confirmation_message": CONFIRMATION, "submit_label": "Send answers"},
    "fields": [
        {"key": "name", "type": "short_text", "label": "Your name", "required": True,
         "rules": {"min_length": 2}},
        {"key": "email", "type": "email", "label": "Email address", "required": True,
         "help": "We write only to answer you."},
        {"key": "age", "type": "number", "label": "Age", "rules": {"kind": "integer", "min": 16,
         "max": 120}},
        {"key": "phone", "type": "phone", "label": "Phone number"},
        {"key": "website", "type": "url", "label": "Website"},
        {"key": "visit_date", "type": "date", "label": "Day of your visit"},
        {"key": "arrival", "type": "time", "label": "Time you arrived"},
        {"key": "about_the_day", "type": "section", "label": "About the day",
         "help": "What you did and what you thought of it."},
        {"key": "transport", "type": "single_choice", "label": "How did you travel?",
         "required": True, "rules": {"choices": ["Bike", "Bus", "Train"]}},
        {"key": "city", "type": "dropdown", "label": "City", "required": True,
         "rules": {"choices": ["Lisbon", "Porto", "Braga"]}},
        {"key": "topics", "type": "multiple_choice", "label": "Sessions you liked",
         "rules": {"choices": ["Talks", "Workshops", "Food"]}},
        {"key": "stars", "type": "rating", "label": "Overall rating", "required": True,
         "rules": {"scale": "stars"}},
        {"key": "photo", "type": "file", "label": "A photo from the day",
         "rules": {"accept": ["image"], "max_size_mb": 2}},
        {"key": "comments", "type": "long_text", "label": "Anything else?"},
        {"key": "consent", "type": "consent", "label": "You may keep my answers for a year",
         "required": True},
        {"key": "source", "type": "hidden", "label": "Source"},
    ],
}  # fmt: skip
# The order Tab visits the questions in, by input name (the honeypot is skipped).
TAB_ORDER = [
    "name", "email", "age", "phone", "website", "visit_date", "arrival", "transport", "city",
    "topics", "stars", "photo", "comments", "consent",
]  # fmt: skip


@pytest.fixture(scope="module")
def form_url(live_server, owner, tmp_path_factory) -> str:
    """The survey, created with ``flask forms import`` as a team keeping forms in git would."""
    definition = tmp_path_factory.mktemp("definitions") / f"{SLUG}.json"
    definition.write_text(json.dumps(DEFINITION, indent=2), encoding="utf-8")
    result = run_flask(
        server_environment(live_server.database_url), "forms", "import", str(definition)
    )
    if result.returncode != 0:
        pytest.fail(f"flask forms import failed:\n{result.stdout}{result.stderr}")
    assert f"Created form '{SLUG}' (open)." in result.stdout
    return f"{live_server.url}/f/{SLUG}"


def png_file(folder: Path) -> Path:
    """A real 2x2 PNG (its content is checked, not just its name)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x80\x00" * 2 for _ in range(2))  # filter byte + RGB
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    path = folder / "sunset.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


def send(page: Page) -> int:
    """Press the form's button; the status of the answer to the post."""
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.get_by_role("button", name="Send answers").click()
    page.wait_for_load_state()
    return answer.value.status


def tick(box: Locator) -> None:
    """Tick a box or radio button, moving to it first as Tab would. A click straight away can
    be lost: leaving a fixed question removes its message and moves what is below (see
    ``test_a_click_below_a_fixed_question_is_not_lost``)."""
    box.focus()
    box.check()


def focused_name(page: Page) -> str | None:
    return page.evaluate("() => document.activeElement && document.activeElement.name")


def sign_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_mistakes_are_explained_then_a_complete_answer_is_stored(
    page: Page, live_server, form_url, tmp_path
):
    page.goto(f"{form_url}?source=newsletter")
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="About the day", level=2)).to_be_visible()

    # First try: too short a name, a bad email, the required choices left alone.
    page.get_by_label("Your name").fill("A")
    page.get_by_label("Email address").fill("ana.example.org")
    page.get_by_label("Phone number").fill("+351 912 345 678")
    page.get_by_label("Anything else?").fill("The workshop room was cold.")
    assert send(page) == 422

    expect(page).to_have_title(f"Error: {TITLE}")
    summary = page.get_by_role("alert").filter(has_text="There are 6 problems")
    expect(summary).to_be_visible()
    expected_links = {
        "Your name: Use at least 2 characters (you used 1).": "#name",
        "Email address: ": "#email",
        "How did you travel?: Please choose an option.": "#transport-0",
        "City: Please choose an option.": "#city",
        "Overall rating: Please choose a rating.": "#stars-0",
        "You may keep my answers for a year: Please tick this box to go on.": "#consent",
    }
    expect(summary.get_by_role("link")).to_have_count(len(expected_links))
    for text, anchor in expected_links.items():
        link = summary.get_by_role("link", name=text)
        expect(link).to_have_attribute("href", anchor)
        expect(page.locator(anchor)).to_have_count(1)

    # The first question in error has the focus, and says what is wrong next to it.
    assert focused_name(page) == "name"
    name = page.get_by_label("Your name")
    expect(name).to_be_focused()
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#name-error")).to_have_text("Use at least 2 characters (you used 1).")
    expect(page.get_by_role("group", name="How did you travel?")).to_contain_text(
        "Please choose an option."
    )

    # What was typed is still there, the hidden value from the link too.
    expect(name).to_have_value("A")
    expect(page.get_by_label("Email address")).to_have_value("ana.example.org")
    expect(page.get_by_label("Phone number")).to_have_value("+351 912 345 678")
    expect(page.get_by_label("Anything else?")).to_have_value("The workshop room was cold.")
    expect(page.locator("input[type=hidden][name=source]")).to_have_value("newsletter")

    # Second try: everything answered, a photo attached.
    name.fill("Ana Lima")
    page.get_by_label("Email address").fill("ana@example.org")
    page.get_by_label("Age").fill("34")
    page.get_by_label("Website").fill("https://ana.example.org")
    page.get_by_label("Day of your visit").fill("2025-05-17")
    page.get_by_label("Time you arrived").fill("18:30")
    tick(page.get_by_role("group", name="How did you travel?").get_by_label("Train"))
    page.get_by_label("City").select_option("Porto")
    topics = page.get_by_role("group", name="Sessions you liked")
    tick(topics.get_by_label("Talks"))
    tick(topics.get_by_label("Food"))
    tick(page.get_by_role("group", name="Overall rating").get_by_label("4"))
    page.get_by_label("A photo from the day").set_input_files(png_file(tmp_path))
    tick(page.get_by_label("You may keep my answers for a year"))
    assert send(page) == 303  # post, redirect, get

    expect(page).to_have_url(f"{form_url}/thanks")
    expect(page.get_by_role("heading", name="Thank you", level=1)).to_be_visible()
    expect(page.get_by_text(CONFIRMATION)).to_be_visible()
    expect(page.get_by_role("link", name="Send another response")).to_have_attribute(
        "href", f"/f/{SLUG}"
    )

    # The owner finds every answer in the inbox.
    sign_in(page, live_server.url)
    page.get_by_role("link", name="Inbox", exact=True).click()
    page.get_by_role("link", name=TITLE).first.click()
    rows = page.locator("table.submissions-table tbody tr")
    expect(rows).to_have_count(1)
    rows.first.locator("a").first.click()
    expect(page.get_by_role("heading", name="Answers")).to_be_visible()
    answers = {
        "Your name": "Ana Lima",
        "Email address": "ana@example.org",
        "Age": "34",
        "Phone number": "+351 912 345 678",
        "Website": "https://ana.example.org",
        "Day of your visit": "2025-05-17",
        "Time you arrived": "18:30",
        "How did you travel?": "Train",
        "City": "Porto",
        "Sessions you liked": "Talks, Food",
        "Overall rating": "4 / 5",
        "A photo from the day": re.compile(r"^sunset\.png \(\d+ bytes\)$"),
        "Anything else?": "The workshop room was cold.",
        "You may keep my answers for a year": "Yes",
        "Source": "newsletter",
    }
    listing = page.locator("section[aria-labelledby=answers-heading] dl")
    for label, value in answers.items():
        term = listing.locator("dt", has_text=re.compile(f"^{re.escape(label)}$"))
        expect(term.locator("xpath=following-sibling::dd[1]")).to_have_text(value)
    expect(listing.get_by_role("link", name=re.compile(r"^sunset\.png"))).to_be_visible()


def test_a_click_below_a_fixed_question_is_not_lost(page: Page, form_url):
    page.goto(form_url)
    assert send(page) == 422
    page.get_by_role("group", name="How did you travel?").get_by_label("Train").check()
    talks = page.get_by_role("group", name="Sessions you liked").get_by_label("Talks")
    talks.click()
    expect(talks).to_be_checked(timeout=1_000)  # a click changes it at once, or never


def test_tab_reaches_every_question_and_then_the_button(page: Page, form_url):
    page.goto(form_url)
    visited: list[str] = []
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.type") == "submit":
            break
        current = focused_name(page)
        if current and (not visited or visited[-1] != current):
            visited.append(current)  # date and time inputs take one Tab per part
    else:
        pytest.fail(f"Tab never reached the button; it visited {visited}")
    expect(page.get_by_role("button", name="Send answers")).to_be_focused()
    assert visited == TAB_ORDER


def test_leaving_an_invalid_email_says_what_is_wrong_at_once(page: Page, form_url):
    page.goto(form_url)
    page.keyboard.press("Tab")
    page.keyboard.type("Ana Lima")
    page.keyboard.press("Tab")
    email = page.get_by_label("Email address")
    expect(email).to_be_focused()
    page.keyboard.type("ana.example.org")
    page.keyboard.press("Tab")

    message = page.locator('[data-field="email"] .field-error')
    expect(message).to_be_visible()
    expect(message).to_contain_text("@")  # Chromium's own wording, e.g. "include an '@'"
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_attribute("aria-describedby", re.compile(r"\bemail-error\b"))
    expect(email).to_have_accessible_description(re.compile("@"))

    # Corrected, the message goes away when the field is left again.
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("ana@example.org")
    page.keyboard.press("Tab")
    expect(message).to_have_count(0)
    expect(email).not_to_have_attribute("aria-invalid", "true")
    expect(email).to_have_attribute("aria-describedby", "email-help")


@pytest.mark.parametrize("state", ["blank", "with errors"])
def test_axe_finds_nothing_serious(page: Page, live_server, form_url, state):
    page.goto(form_url)
    if state == "with errors":
        page.get_by_label("Email address").fill("ana.example.org")
        assert send(page) == 422
        expect(page.get_by_role("alert")).to_be_visible()
    violations = run_axe(page, live_server.url)
    print(f"axe on the {state} form page:\n{describe_violations(violations)}")
    serious = blocking(violations)
    assert not serious, f"axe on the {state} form page:\n{describe_violations(serious)}"
