"""A form with pages in a real browser, with and without JavaScript: a question that appears
with an answer on its page, a branch, Back, an error on page 2, the final submit, resuming
from a saved link in a fresh browser, "check your answers", one question at a time with Enter,
and axe-core's audit of every step."""

from __future__ import annotations

import json
import sqlite3
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.browser.a11y import blocking
from tests.browser.a11y import describe_violations
from tests.browser.a11y import run_axe
from tests.browser.conftest import DEFAULT_TIMEOUT_MS
from tests.browser.conftest import run_flask
from tests.browser.conftest import server_environment

pytestmark = pytest.mark.browser
SLUG = "club-application"
MEMBER = {"field": "member", "op": "is", "value": "yes"}
DEFINITION = {
    "formyard": 1,
    "slug": SLUG,
    "title": "Join the club",
    "kind": "built",
    "status": "open",
    "settings": {"submit_label": "Send application"},
    "fields": [
        {"key": "about", "type": "page", "label": "About you"},
        {"key": "name", "type": "short_text", "label": "Your name", "required": True},
        {"key": "member", "type": "single_choice", "label": "Have you been a member before?",
         "required": True, "rules": {"choices": [{"value": "yes", "label": "Yes"},
                                                 {"value": "no", "label": "No"}]}},
        {"key": "number", "type": "short_text", "label": "Old membership number",
         "required": True, "show_if": MEMBER},
        {"key": "joining", "type": "page", "label": "Why join", "show_if": {"not": MEMBER}},
        {"key": "why", "type": "long_text", "label": "Why do you want to join?", "required": True},
        {"key": "last", "type": "page", "label": "Last words"},
        {"key": "comment", "type": "long_text", "label": "Anything else?"},
    ],
}  # fmt: skip


# The same questions with each display setting, one form per setting.
SAVING_SLUG = "club-later"
CHECKING_SLUG = "club-check"
ONE_AT_A_TIME_SLUG = "club-one"
VARIANTS = {
    SAVING_SLUG: {"allow_saving": True},
    CHECKING_SLUG: {"check_answers": True},
    ONE_AT_A_TIME_SLUG: {"one_question_per_page": True},
}
PHONE = {"width": 390, "height": 844}


def import_form(live_server, folder, definition: dict) -> str:
    path = folder / f"{definition['slug']}.json"
    path.write_text(json.dumps(definition), encoding="utf-8")
    result = run_flask(server_environment(live_server.database_url), "forms", "import", str(path))
    if result.returncode != 0:
        pytest.fail(f"flask forms import failed:\n{result.stdout}{result.stderr}")
    return f"{live_server.url}/f/{definition['slug']}"


@pytest.fixture(scope="module")
def form_url(live_server, owner, tmp_path_factory) -> str:
    return import_form(live_server, tmp_path_factory.mktemp("definitions"), DEFINITION)


@pytest.fixture(scope="module")
def variant_urls(live_server, owner, tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("variants")
    urls = {}
    for slug, settings in VARIANTS.items():
        with_settings = {**DEFINITION["settings"], **settings}
        definition = {**DEFINITION, "slug": slug, "settings": with_settings}
        urls[slug] = import_form(live_server, folder, definition)
    return urls


def new_page(browser, mode: str, **options) -> Page:
    context = browser.new_context(java_script_enabled=mode == "with JavaScript", **options)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context.new_page()


@pytest.fixture(params=["with JavaScript", "without JavaScript"])
def respondent(request, browser):
    page = new_page(browser, request.param)
    try:
        yield request.param, page
    finally:
        page.context.close()


@pytest.fixture(params=["with JavaScript", "without JavaScript"])
def phone_respondent(request, browser):
    """A respondent on a phone-sized screen, 390 pixels wide."""
    page = new_page(browser, request.param, viewport=PHONE)
    try:
        yield request.param, page
    finally:
        page.context.close()


def stored_rows(live_server, slug: str = SLUG) -> list[tuple[dict, dict]]:
    path = live_server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT answers, meta FROM submissions s JOIN forms f ON f.id = s.form_id "
            "WHERE f.slug = ? ORDER BY s.id",
            (slug,),
        ).fetchall()
    return [(json.loads(answers), json.loads(meta)) for answers, meta in rows]


def audit(page: Page, live_server, step: str) -> None:
    """axe-core runs in the page, so only where JavaScript runs; the server sends the same
    HTML to both, the words of a condition included."""
    if "without JavaScript" in step:
        return
    serious = blocking(run_axe(page, live_server.url))
    assert not serious, f"axe on {step}:\n{describe_violations(serious)}"


def check_fits_a_phone(page: Page, step: str) -> None:
    """Nothing wider than the screen (measured where JavaScript runs); a screenshot of each
    step is kept in the pytest temporary folder for a look."""
    if "without JavaScript" in step:
        return
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{step}: the page is {width}px wide"


def press(page: Page, name: str) -> int:
    """Press a button from the keyboard: leaving a question first may show its message and
    move the button (see test_respondent's ``tick``), which would lose a click."""
    button = page.get_by_role("button", name=name, exact=True)
    button.focus()
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        button.press("Enter")
    page.wait_for_load_state()
    return answer.value.status


def test_a_respondent_branches_goes_back_fixes_a_mistake_and_sends(
    respondent, form_url, live_server
):
    mode, page = respondent
    before = len(stored_rows(live_server))
    page.goto(form_url)
    expect(page.get_by_text("Page 1 of up to 3")).to_be_visible()
    number = page.get_by_label("Old membership number")
    member = page.get_by_role("group", name="Have you been a member before?")
    if mode == "with JavaScript":
        expect(number).to_be_hidden()  # shown only once "Yes" is chosen
        member.get_by_label("Yes").check()
        expect(number).to_be_visible()
        member.get_by_label("No").check()
        expect(number).to_be_hidden()
    else:
        expect(
            page.get_by_text("Only if “Have you been a member before?” is “Yes”.")
        ).to_be_visible()
        member.get_by_label("No").check()
    audit(page, live_server, f"page 1, {mode}")
    page.get_by_label("Your name").fill("Ana Lima")
    assert press(page, "Continue") == 303

    expect(page).to_have_url(f"{form_url}/p/joining")
    expect(page.get_by_role("heading", name="Why join", level=2)).to_be_visible()
    page.get_by_label("Why do you want to join?").fill("To sail")
    press(page, "Back")
    expect(page).to_have_url(f"{form_url}/p/about")
    expect(page.get_by_label("Your name")).to_have_value("Ana Lima")
    press(page, "Continue")
    expect(page.get_by_label("Why do you want to join?")).to_have_value("To sail")
    page.get_by_label("Why do you want to join?").fill("")
    assert press(page, "Continue") == 422
    expect(page.get_by_role("alert")).to_contain_text("Why do you want to join?")
    audit(page, live_server, f"page 2 with an error, {mode}")
    page.get_by_label("Why do you want to join?").fill("To sail with friends")
    press(page, "Continue")

    expect(page).to_have_url(f"{form_url}/p/last")
    expect(page.get_by_text("Page 3 of up to 3")).to_be_visible()
    audit(page, live_server, f"page 3, {mode}")
    page.get_by_label("Anything else?").fill("See you")
    press(page, "Send application")
    expect(page).to_have_url(f"{form_url}/thanks")

    rows = stored_rows(live_server)
    assert len(rows) == before + 1
    answers, meta = rows[-1]
    assert answers == {
        "name": "Ana Lima", "member": "no", "why": "To sail with friends", "comment": "See you",
    }  # fmt: skip
    assert meta["path"] == ["about", "joining", "last"]


def test_a_returning_member_skips_the_joining_page(respondent, form_url, live_server):
    _mode, page = respondent
    page.goto(form_url)
    page.get_by_label("Your name").fill("Bo")
    page.get_by_role("group", name="Have you been a member before?").get_by_label("Yes").check()
    page.get_by_label("Old membership number").fill("1234")
    press(page, "Continue")
    expect(page).to_have_url(f"{form_url}/p/last")
    press(page, "Send application")
    answers, meta = stored_rows(live_server)[-1]
    assert answers == {"name": "Bo", "member": "yes", "number": "1234", "comment": None}
    assert meta["path"] == ["about", "last"]


def test_saved_answers_resume_from_the_link_in_a_fresh_browser(
    respondent, browser, variant_urls, live_server
):
    mode, page = respondent
    form_url = variant_urls[SAVING_SLUG]
    page.goto(form_url)
    page.get_by_label("Your name").fill("Ana Lima")
    page.get_by_role("group", name="Have you been a member before?").get_by_label("No").check()
    assert press(page, "Save and finish later") == 200
    expect(page.get_by_role("heading", name="Your answers are saved")).to_be_visible()
    audit(page, live_server, f"the saved page, {mode}")
    shown = urlsplit(page.get_by_label("Your link").input_value())
    assert shown.path.startswith(f"/f/{SAVING_SLUG}/resume/")
    link = f"{live_server.url}{shown.path}"  # the link names the configured BASE_URL

    fresh = new_page(browser, mode)  # another browser: no cookie, only the link
    try:
        fresh.goto(link)
        expect(fresh).to_have_url(f"{form_url}/p/about")
        expect(fresh.get_by_label("Your name")).to_have_value("Ana Lima")
        audit(fresh, live_server, f"the resumed page, {mode}")
        press(fresh, "Continue")
        fresh.get_by_label("Why do you want to join?").fill("To sail")
        press(fresh, "Continue")
        press(fresh, "Send application")
        expect(fresh).to_have_url(f"{form_url}/thanks")
    finally:
        fresh.context.close()
    answers, _meta = stored_rows(live_server, SAVING_SLUG)[-1]
    assert answers == {"name": "Ana Lima", "member": "no", "why": "To sail", "comment": None}
    page.goto(link)  # the link is spent
    expect(page.get_by_text("the answers it kept were sent already")).to_be_visible()


def test_a_respondent_checks_changes_and_sends_their_answers(
    phone_respondent, variant_urls, live_server
):
    mode, page = phone_respondent
    form_url = variant_urls[CHECKING_SLUG]
    before = len(stored_rows(live_server, CHECKING_SLUG))
    page.goto(form_url)
    page.get_by_label("Your name").fill("Ana")
    page.get_by_role("group", name="Have you been a member before?").get_by_label("No").check()
    press(page, "Continue")
    page.get_by_label("Why do you want to join?").fill("To sail")
    press(page, "Continue")
    page.get_by_label("Anything else?").fill("See you")
    assert press(page, "Continue") == 303

    expect(page).to_have_url(f"{form_url}/check")
    expect(page.get_by_role("heading", name="Check your answers", level=1)).to_be_visible()
    summary = page.locator("article.respondent")
    expect(summary).to_contain_text("Ana")
    expect(summary).to_contain_text("No")
    expect(summary).not_to_contain_text("Old membership number")
    page.screenshot(path=str(live_server.log_path.parent / f"check-{mode}.png"), full_page=True)
    audit(page, live_server, f"check your answers, {mode}")
    check_fits_a_phone(page, f"check your answers, {mode}")
    assert len(stored_rows(live_server, CHECKING_SLUG)) == before  # nothing sent yet

    page.get_by_role("link", name="Change Your name").click()
    expect(page).to_have_url(f"{form_url}/p/about")
    page.get_by_label("Your name").fill("Ana Lima")
    press(page, "Continue")
    expect(page).to_have_url(f"{form_url}/check")  # the path is the same: straight back
    expect(page.locator(".summary-list").first).to_contain_text("Ana Lima")
    press(page, "Send application")
    expect(page).to_have_url(f"{form_url}/thanks")
    answers, meta = stored_rows(live_server, CHECKING_SLUG)[-1]
    assert answers == {"name": "Ana Lima", "member": "no", "why": "To sail", "comment": "See you"}
    assert meta["path"] == ["about", "joining", "last"]


def test_one_question_at_a_time_continues_with_enter(phone_respondent, variant_urls, live_server):
    mode, page = phone_respondent
    form_url = variant_urls[ONE_AT_A_TIME_SLUG]
    page.goto(form_url)
    expect(page.get_by_text("Question 1 of up to 5")).to_be_visible()
    name = page.get_by_label("Your name")
    expect(name).to_be_focused()
    audit(page, live_server, f"question 1, {mode}")
    check_fits_a_phone(page, f"question 1, {mode}")
    page.keyboard.type("Ana Lima")
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 303
    page.wait_for_load_state()

    expect(page).to_have_url(f"{form_url}/p/member")
    expect(page.get_by_text("Question 2 of up to 5")).to_be_visible()
    expect(page.get_by_role("heading", name="About you", level=2)).to_be_visible()
    expect(page.get_by_label("Your name")).to_have_count(0)
    page.get_by_label("No").check()
    with page.expect_response(lambda response: response.request.method == "POST"):
        page.keyboard.press("Enter")
    page.wait_for_load_state()

    expect(page).to_have_url(f"{form_url}/p/joining")  # the membership number is skipped
    why = page.get_by_label("Why do you want to join?")
    expect(why).to_be_focused()
    page.screenshot(path=str(live_server.log_path.parent / f"one-{mode}.png"), full_page=True)
    audit(page, live_server, f"a long answer, {mode}")
    check_fits_a_phone(page, f"a long answer, {mode}")
    page.keyboard.type("To sail")
    page.keyboard.press("Enter")  # a new line in a text area
    page.keyboard.type("with friends")
    press(page, "Continue")
    expect(page).to_have_url(f"{form_url}/p/last")
    press(page, "Send application")
    expect(page).to_have_url(f"{form_url}/thanks")
    answers, meta = stored_rows(live_server, ONE_AT_A_TIME_SLUG)[-1]
    assert answers == {
        "name": "Ana Lima", "member": "no", "why": "To sail\nwith friends", "comment": None,
    }  # fmt: skip
    assert meta["path"] == ["about", "joining", "last"]
