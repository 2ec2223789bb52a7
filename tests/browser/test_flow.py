"""A form with pages in a real browser, with and without JavaScript: a question that appears
with an answer on its page, a branch, Back, an error on page 2, the final submit, and axe-core's
audit of every step."""

from __future__ import annotations

import json
import sqlite3

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


@pytest.fixture(scope="module")
def form_url(live_server, owner, tmp_path_factory) -> str:
    definition = tmp_path_factory.mktemp("definitions") / f"{SLUG}.json"
    definition.write_text(json.dumps(DEFINITION), encoding="utf-8")
    result = run_flask(
        server_environment(live_server.database_url), "forms", "import", str(definition)
    )
    if result.returncode != 0:
        pytest.fail(f"flask forms import failed:\n{result.stdout}{result.stderr}")
    return f"{live_server.url}/f/{SLUG}"


@pytest.fixture(params=["with JavaScript", "without JavaScript"])
def respondent(request, browser):
    context = browser.new_context(java_script_enabled=request.param == "with JavaScript")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    try:
        yield request.param, page
    finally:
        context.close()


def stored_rows(live_server) -> list[tuple[dict, dict]]:
    path = live_server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT answers, meta FROM submissions s JOIN forms f ON f.id = s.form_id "
            "WHERE f.slug = ? ORDER BY s.id",
            (SLUG,),
        ).fetchall()
    return [(json.loads(answers), json.loads(meta)) for answers, meta in rows]


def audit(page: Page, live_server, step: str) -> None:
    """axe-core runs in the page, so only where JavaScript runs; the server sends the same
    HTML to both, the words of a condition included."""
    if "without JavaScript" in step:
        return
    serious = blocking(run_axe(page, live_server.url))
    assert not serious, f"axe on {step}:\n{describe_violations(serious)}"


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
