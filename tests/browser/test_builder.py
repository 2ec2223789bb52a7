"""The builder in a real browser: a question of every type, reordering by mouse and keyboard,
publishing, and the public page serving what was built."""

import re

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

from app.fields import FIELD_TYPES
from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import PASSWORD
from tests.browser.a11y import blocking
from tests.browser.a11y import describe_violations
from tests.browser.a11y import run_axe

pytestmark = pytest.mark.browser
TITLE = "Everything form"


def sign_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/")


def question_keys(page: Page) -> list[str]:
    return page.locator(".field-list > [data-key]").evaluate_all(
        "items => items.map(item => item.dataset.key)"
    )


def expect_keys(page: Page, keys: list[str]) -> None:
    expect(page.locator(".field-list > [data-key]")).to_have_count(len(keys))
    for index, key in enumerate(keys):
        expect(page.locator(".field-list > [data-key]").nth(index)).to_have_attribute(
            "data-key", key
        )


def handle(page: Page, key: str):
    return page.locator(f'.field-list > [data-key="{key}"] [data-handle]')


def test_build_reorder_and_publish_a_form_of_every_type(page: Page, live_server, owner):
    base_url = live_server.url
    sign_in(page, base_url)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Forms").click()
    page.get_by_role("button", name="New form").click()
    page.get_by_label("Blank form").check()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_role("button", name="Create form").click()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    builder_url = page.url
    announcer = page.locator("[data-announcer]")

    # One question of every type, added without a page load: each opens its editor.
    for count, field_type in enumerate(FIELD_TYPES.values(), start=1):
        page.locator(".palette").get_by_role("button", name=field_type.title, exact=True).click()
        expect(page.locator(".field-list > [data-key]")).to_have_count(count)
        expect(page.locator(".field-editor").get_by_label("Label")).to_have_value(field_type.title)
    expect(page).to_have_url(builder_url)
    keys = question_keys(page)
    assert len(keys) == len(FIELD_TYPES)
    preview = page.locator('[data-region="preview"]')
    expect(preview.get_by_text("Short answer", exact=True)).to_be_visible()

    # Edit one question in place: the list and the preview follow.
    page.locator(f'[data-key="{keys[0]}"] [data-edit-field]').click()
    editor = page.locator(f'[data-key="{keys[0]}"] .field-editor')
    editor.get_by_label("Label").fill("Your name")
    editor.get_by_role("button", name="Save question").click()
    expect(announcer).to_have_text('Saved "Your name".')
    expect(preview.get_by_label("Your name")).to_be_visible()
    # Not yet published, the key follows the new label.
    expect(page.locator('.field-list > [data-key="your_name"]')).to_have_count(1)
    keys[0] = "your_name"

    # A refused setting is shown next to its input, from the JSON error's field path.
    number = keys[list(FIELD_TYPES).index("number")]
    page.locator(f'[data-key="{number}"] [data-edit-field]').click()
    editor = page.locator(f'[data-key="{number}"] .field-editor')
    editor.get_by_label("Smallest").fill("10")
    editor.get_by_label("Largest").fill("1")
    editor.get_by_role("button", name="Save question").click()
    expect(editor.locator("#rule_min-error")).to_have_text(
        'Field "Number": min must not be greater than max.'
    )
    expect(editor.get_by_label("Smallest")).to_be_focused()
    expect(editor.get_by_label("Smallest")).to_have_attribute("aria-invalid", "true")
    editor.get_by_label("Largest").fill("100")
    editor.get_by_role("button", name="Save question").click()
    expect(announcer).to_have_text('Saved "Number".')
    expect(editor).to_have_count(0)
    expect(preview.get_by_label("Number", exact=True)).to_have_attribute("max", "100")

    # Drag the fourth question to the top by its handle (a short way: no scrolling mid-drag).
    handle(page, keys[0]).scroll_into_view_if_needed()
    handle(page, keys[3]).drag_to(handle(page, keys[0]))
    expected = [keys[3], *keys[:3], *keys[4:]]
    expect(announcer).to_have_text("Saved the new order.")
    expect_keys(page, expected)

    # The keyboard way: Alt+Down, then Alt+Up twice, on a focused handle; each is announced.
    moving = expected[1]
    handle(page, moving).focus()
    page.keyboard.press("Alt+ArrowDown")
    expect(announcer).to_have_text(re.compile(rf"Moved .* to position 3 of {len(keys)}\."))
    expected[1], expected[2] = expected[2], expected[1]
    expect_keys(page, expected)
    expect(handle(page, moving)).to_be_focused()
    page.keyboard.press("Alt+ArrowUp")
    page.keyboard.press("Alt+ArrowUp")
    expect(announcer).to_have_text(re.compile(rf"Moved .* to position 1 of {len(keys)}\."))
    expected.remove(moving)
    expected.insert(0, moving)
    expect_keys(page, expected)

    # And the buttons.
    at = expected.index(keys[0])
    page.get_by_role("button", name="Move down: Your name").click()
    expect(announcer).to_have_text(f'Moved "Your name" to position {at + 2} of {len(keys)}.')
    expected[at], expected[at + 1] = expected[at + 1], expected[at]
    expect_keys(page, expected)

    page.reload()
    expect_keys(page, expected)
    expect(page.get_by_text("Unpublished changes").first).to_be_visible()

    page.get_by_role("button", name="Publish").click()
    expect(announcer).to_have_text("Published version 1. It is live now.")
    expect(page.get_by_text("People see what the preview shows (version 1")).to_be_visible()

    page.goto(f"{base_url}{page.locator('[data-public-link]').get_attribute('href')}")
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(page.get_by_label("Your name")).to_be_visible()
    labels = page.locator(".respondent-form").get_by_text("Section heading", exact=True)
    expect(labels).to_be_visible()


def test_logic_editors_and_the_flow_overview_work_and_pass_axe(page: Page, live_server, owner):
    base_url = live_server.url
    sign_in(page, base_url)
    page.goto(f"{base_url}/forms/new")
    page.get_by_label("Blank form").check()
    page.get_by_label("Title").fill("Logic form")
    page.get_by_role("button", name="Create form").click()
    expect(page.get_by_role("heading", name="Logic form", level=1)).to_be_visible()
    builder_url = page.url
    for count, title in enumerate(["Single choice", "Page break", "Short answer"], start=1):
        page.locator(".palette").get_by_role("button", name=title, exact=True).click()
        expect(page.locator(".field-list > [data-key]")).to_have_count(count)
    choice, page_break, short = question_keys(page)

    # The short answer on page two shows only for the first option of page one's question.
    page.goto(f"{builder_url}/fields/{short}")
    page.get_by_label("Add a test on").select_option(choice)
    page.get_by_role("button", name="Add test").click()
    page.get_by_label("Option", exact=True).select_option(index=1)
    audit(page, live_server, "the show-if editor")
    page.get_by_role("button", name="Save condition").click()
    expect(page.get_by_text("is shown only when its condition holds")).to_be_visible()

    # Page two's rule: the second option goes straight to submit.
    page.goto(f"{builder_url}/fields/{page_break}")
    audit(page, live_server, "a page break's page")
    page.get_by_role("link", name="Add a rule").click()
    page.get_by_label("Add a test on").select_option(choice)
    page.get_by_role("button", name="Add test").click()
    page.get_by_label("Option", exact=True).select_option(index=2)
    page.get_by_label("Then go to").select_option("submit")
    audit(page, live_server, "the rule editor")
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text("Saved the rule.")).to_be_visible()
    expect(page.locator(".route-list")).to_contain_text("go to submit")

    page.goto(builder_url)
    page.get_by_role("link", name="Pages and logic").click()
    expect(page.get_by_role("heading", name="Pages and logic", level=1)).to_be_visible()
    expect(page.locator(f"#question-{short}")).to_contain_text("Only if")
    expect(page.locator(f"#page-{page_break}")).to_contain_text("go to submit")
    audit(page, live_server, "the flow overview")


def audit(page: Page, live_server, step: str) -> None:
    serious = blocking(run_axe(page, live_server.url))
    assert not serious, f"axe on {step}:\n{describe_violations(serious)}"
