"""The respondent's display settings and conveniences, as a browser without JavaScript uses
them: one question at a time, "check your answers" before sending, earlier answers piped into
later questions, and a file that stays sent when the respondent goes Back."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app.exceptions import ValidationFailed
from app.extensions import db
from app.models import PartialResponse
from app.services import forms
from tests.form_helpers import change_settings
from tests.form_helpers import make_form
from tests.public_helpers import fetch_files
from tests.public_helpers import fetch_submissions
from tests.public_helpers import field_value
from tests.public_helpers import page_token
from tests.public_helpers import parse_page
from tests.public_helpers import png_bytes

MEMBER = {"field": "member", "op": "is", "value": "yes"}
CLUB = [
    {"key": "about", "type": "page", "label": "About you"},
    {"key": "name", "type": "short_text", "label": "Name", "required": True},
    {"key": "member", "type": "single_choice", "label": "Member?", "required": True,
     "rules": {"choices": [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}]}},
    {"key": "number", "type": "short_text", "label": "Membership number", "required": True,
     "show_if": MEMBER},
    {"key": "join", "type": "page", "label": "Joining", "show_if": {"not": MEMBER}},
    {"key": "why", "type": "long_text", "label": "Why join?", "required": True},
    {"key": "last", "type": "page", "label": "Last words"},
    {"key": "comment", "type": "long_text", "label": "Anything else?"},
]  # fmt: skip


def club(app, **settings):
    return make_form(app, CLUB, title="Club", slug="club", submit_label="Send it", **settings)


def post(client, response, page, **answers):
    data = {"_token": page_token(response), "_page": page, **answers}
    return client.post("/f/club", data=data)


def go(client, response, page, **answers):
    """Post a page and follow its redirect to the next page."""
    posted = post(client, response, page, **answers)
    assert posted.status_code == 303, posted.get_data(as_text=True)
    return client.get(posted.headers["Location"])


def fetch_partial(app) -> PartialResponse:
    with app.app_context():
        return db.session.scalar(select(PartialResponse))


# --- one question at a time -------------------------------------------------------------------


def test_three_questions_are_three_pages_one_at_a_time(app, client):
    fields = [
        {"key": "name", "type": "short_text", "label": "Name", "required": True},
        {"key": "intro", "type": "section", "label": "About your visit"},
        {"key": "story", "type": "long_text", "label": "Your story"},
        {"key": "email", "type": "email", "label": "Email"},
    ]
    make_form(app, fields, slug="club", one_question_per_page=True)
    first = client.get("/f/club")
    page = parse_page(first)
    assert "Question 1 of 3" in page.text
    assert page.find("input", name="_page").attrs["value"] == "page-1"
    assert page.find("input", id="name").has("autofocus")
    assert page.find("textarea", id="story") is None
    assert page.find("button").text.strip() == "Continue"

    second = go(client, first, "page-1", name="Ann")
    page = parse_page(second)
    assert "Question 2 of 3" in page.text
    assert "About your visit" in page.text  # a statement goes with the question after it
    assert page.find("textarea", id="story").has("autofocus")
    assert "Continue" in page.find("button").text  # a textarea's Enter is a new line
    third = go(client, second, "story", story="Line one\nLine two")
    assert "Question 3 of 3" in parse_page(third).text
    assert "Submit" in parse_page(third).find("button").text

    sent = post(client, third, "email", email="ann@example.org")
    assert sent.headers["Location"] == "/f/club/thanks"
    (row,) = fetch_submissions(app, "club")
    assert row.answers == {
        "name": "Ann", "story": "Line one\nLine two", "email": "ann@example.org",
    }  # fmt: skip
    assert row.meta["path"] == ["page-1"]  # in the version's pages


def test_one_at_a_time_skips_a_hidden_question_and_keeps_the_page_title_and_routes(app, client):
    club(app, one_question_per_page=True)
    first = client.get("/f/club")
    assert "Question 1 of up to 5" in parse_page(first).text
    assert "About you" in parse_page(first).text
    member = go(client, first, "about", name="Ann")
    assert member.request.path == "/f/club/p/member"
    assert "About you" in parse_page(member).text  # the page title above each question

    posted = post(client, member, "member", member="no")
    assert posted.headers["Location"] == "/f/club/p/join"  # the number, hidden, is skipped
    join = client.get("/f/club/p/join")
    assert "Question 3 of up to 5" in parse_page(join).text
    last = go(client, join, "join", why="Sailing")
    assert last.request.path == "/f/club/p/last"
    post(client, last, "last", comment="Hi")
    (row,) = fetch_submissions(app, "club")
    assert row.answers == {"name": "Ann", "member": "no", "why": "Sailing", "comment": "Hi"}
    assert row.meta["path"] == ["about", "join", "last"]


def test_a_member_answers_the_number_and_skips_the_joining_page_one_at_a_time(app, client):
    club(app, one_question_per_page=True)
    member = go(client, client.get("/f/club"), "about", name="Bo")
    number = go(client, member, "member", member="yes")
    assert number.request.path == "/f/club/p/number"
    assert "Only if" not in parse_page(number).text  # decided on the page before
    missing = post(client, number, "number", number="")
    assert missing.status_code == 422
    assert "Membership number: This field is required." in parse_page(missing).text
    last = go(client, missing, "number", number="42")
    assert last.request.path == "/f/club/p/last"
    post(client, last, "last")
    (row,) = fetch_submissions(app, "club")
    assert row.answers == {"name": "Bo", "member": "yes", "number": "42", "comment": None}
    assert row.meta["path"] == ["about", "last"]


def test_a_respondent_keeps_the_display_they_started_with_when_the_setting_changes(app, client):
    club(app, one_question_per_page=True)
    member = go(client, client.get("/f/club"), "about", name="Ann")
    change_settings(app, "club", one_question_per_page=False)
    assert fetch_partial(app).one_question_per_page is True

    again = client.get("/f/club/p/member")
    assert "Question 2 of up to 5" in parse_page(again).text
    join = go(client, member, "member", member="no")
    assert join.request.path == "/f/club/p/join"
    fresh = app.test_client().get("/f/club")  # a new respondent gets the new display
    assert "Page 1 of up to 3" in parse_page(fresh).text
    assert "Member?" in parse_page(fresh).text


def test_a_page_routes_after_its_last_question_even_when_that_question_is_hidden(app, client):
    fields = [
        {"key": "one", "type": "page", "label": "One",
         "rules": {"routes": [{"if": {"not": MEMBER}, "goto": "three"}]}},
        {"key": "member", "type": "single_choice", "label": "Member?",
         "rules": {"choices": ["yes", "no"]}},
        {"key": "number", "type": "short_text", "label": "Number", "show_if": MEMBER},
        {"key": "two", "type": "page", "label": "Two"},
        {"key": "why", "type": "short_text", "label": "Why?"},
        {"key": "three", "type": "page", "label": "Three"},
        {"key": "note", "type": "short_text", "label": "Note"},
    ]  # fmt: skip
    make_form(app, fields, slug="club", one_question_per_page=True)
    routed = post(client, client.get("/f/club"), "one", member="no")
    assert routed.headers["Location"] == "/f/club/p/three"  # "number" hidden, "two" skipped
    post(client, client.get("/f/club/p/three"), "three", note="Hi")
    (row,) = fetch_submissions(app, "club")
    assert row.answers == {"member": "no", "note": "Hi"}
    assert row.meta["path"] == ["one", "three"]


def test_a_path_from_another_display_resumes_at_its_first_unanswered_page(app, client):
    club(app, one_question_per_page=True, allow_saving=True)
    member = go(client, client.get("/f/club"), "about", name="Ann")
    saved = post(client, member, "member", _action="save")
    link = parse_page(saved).find("input", id="resume-link").attrs["value"]
    with app.app_context():  # as if the partial had been kept without its display
        partial = db.session.scalar(select(PartialResponse))
        partial.one_question_per_page = False
        db.session.commit()
    assert client.get("/f/club/p/member").headers["Location"] == "/f/club/p/about"
    other = app.test_client()
    resumed = other.get(link.removeprefix("http://127.0.0.1:5000"))
    assert resumed.headers["Location"] == "/f/club/p/about"
    about = other.get("/f/club/p/about")
    assert "Page 1 of up to 3" in parse_page(about).text
    assert field_value(parse_page(about), "name") == "Ann"
    assert fetch_partial(app).path == ["about"]


# --- check your answers -----------------------------------------------------------------------


def reach_check_page(client):
    join = go(client, client.get("/f/club"), "about", name="Ann", member="no")
    last = go(client, join, "join", why="To sail")
    return post(client, last, "last", comment="")


def test_the_last_page_leads_to_check_your_answers_and_nothing_is_stored_yet(app, client):
    club(app, check_answers=True)
    join = go(client, client.get("/f/club"), "about", name="Ann", member="no")
    last = go(client, join, "join", why="To sail")
    assert "Continue" in parse_page(last).find("button").text  # not yet "Send it"
    to_check = post(client, last, "last", comment="")
    assert to_check.headers["Location"] == "/f/club/check"
    assert fetch_submissions(app, "club") == []

    check = parse_page(client.get("/f/club/check"))
    assert check.find("h1").text == "Check your answers"
    rows = [
        (row.find("dt").text, row.find_all("dd")[0].text.strip())
        for row in check.find_all("div", class_="summary-row")
    ]
    assert rows == [
        ("Name", "Ann"),
        ("Member?", "No"),  # a choice by its label
        ("Why join?", "To sail"),
        ("Anything else?", "Not answered"),
    ]  # the hidden membership number is not there
    links = [link.attrs["href"] for link in check.find_all("a") if "Change" in link.text]
    assert links == ["/f/club/p/about", "/f/club/p/about", "/f/club/p/join", "/f/club/p/last"]
    assert "Send it" in check.find("button").text


def test_a_change_comes_back_to_the_check_page_and_submit_stores_it(app, client):
    club(app, check_answers=True)
    check = client.get(reach_check_page(client).headers["Location"])
    about = client.get("/f/club/p/about")
    assert field_value(parse_page(about), "name") == "Ann"
    back_to_check = post(client, about, "about", name="Anna", member="no")
    assert back_to_check.headers["Location"] == "/f/club/check"
    check = client.get("/f/club/check")
    assert "Anna" in parse_page(check).text

    sent = post(client, check, "check-answers")
    assert sent.headers["Location"] == "/f/club/thanks"
    (row,) = fetch_submissions(app, "club")
    assert row.answers == {"name": "Anna", "member": "no", "why": "To sail", "comment": None}
    assert row.meta["path"] == ["about", "join", "last"]


def test_a_change_that_takes_another_path_goes_on_through_the_new_pages(app, client):
    club(app, check_answers=True)
    reach_check_page(client)
    about = client.get("/f/club/p/about")
    changed = post(client, about, "about", name="Ann", member="yes", number="42")
    assert changed.headers["Location"] == "/f/club/p/last"  # the path changed
    last = client.get("/f/club/p/last")
    assert post(client, last, "last").headers["Location"] == "/f/club/check"
    check = client.get("/f/club/check")
    assert "Why join?" not in parse_page(check).text
    assert "Membership number" in parse_page(check).text
    post(client, check, "check-answers")
    (row,) = fetch_submissions(app, "club")
    assert row.answers == {"name": "Ann", "member": "yes", "number": "42", "comment": None}


def test_back_from_the_check_page_goes_to_the_last_page(app, client):
    club(app, check_answers=True)
    check = client.get(reach_check_page(client).headers["Location"])
    back = post(client, check, "check-answers", _action="back")
    assert back.headers["Location"] == "/f/club/p/last"
    assert client.get("/f/club/check").headers["Location"] == "/f/club"  # not reached again


def test_saving_on_the_check_page_resumes_there(app, client):
    club(app, check_answers=True, allow_saving=True)
    check = client.get(reach_check_page(client).headers["Location"])
    saved = post(client, check, "check-answers", _action="save")
    link = parse_page(saved).find("input", id="resume-link").attrs["value"]
    other = app.test_client()
    resumed = other.get(link.removeprefix("http://127.0.0.1:5000"))
    assert resumed.headers["Location"] == "/f/club/check"
    check = other.get("/f/club/check")
    assert "To sail" in parse_page(check).text
    assert post(other, check, "check-answers").headers["Location"] == "/f/club/thanks"
    assert len(fetch_submissions(app, "club")) == 1


def test_the_check_page_cannot_be_reached_or_posted_before_the_last_page(app, client):
    club(app, check_answers=True)
    first = client.get("/f/club")
    assert client.get("/f/club/check").headers["Location"] == "/f/club"
    join = go(client, first, "about", name="Ann", member="no")
    assert client.get("/f/club/check").headers["Location"] == "/f/club"
    skipped = post(client, join, "check-answers")
    assert skipped.status_code == 409
    assert fetch_submissions(app, "club") == []


def test_a_single_page_form_checks_answers_too(app, client):
    fields = [
        {"key": "name", "type": "short_text", "label": "Name", "required": True},
        {"key": "photo", "type": "file", "label": "Photo"},
    ]
    make_form(app, fields, slug="club", check_answers=True)
    first = client.get("/f/club")
    data = {
        "_token": page_token(first),
        "_page": "page-1",
        "name": "Ann",
        "photo": (io.BytesIO(png_bytes()), "me.png"),
    }
    assert client.post("/f/club", data=data).headers["Location"] == "/f/club/check"
    check = client.get("/f/club/check")
    assert "me.png" in parse_page(check).text  # a file by its name
    assert post(client, check, "check-answers").headers["Location"] == "/f/club/thanks"
    (row,) = fetch_submissions(app, "club")
    assert row.answers["name"] == "Ann" and row.answers["photo"]["name"] == "me.png"


def test_the_check_page_keeps_a_required_answer_that_became_missing_from_being_sent(app, client):
    club(app, check_answers=True)
    check = client.get(reach_check_page(client).headers["Location"])
    with app.app_context():  # a question left unanswered by a client that skipped it
        partial = db.session.scalar(select(PartialResponse))
        partial.answers = {**partial.answers, "why": None}
        db.session.commit()
    refused = post(client, check, "check-answers")
    assert refused.status_code == 422
    assert "Why join?: This field is required." in parse_page(refused).text
    assert fetch_submissions(app, "club") == []


# --- piping -----------------------------------------------------------------------------------

PIPED = [
    {"key": "one", "type": "page", "label": "About you"},
    {"key": "name", "type": "short_text", "label": "Name"},
    {"key": "size", "type": "single_choice", "label": "Size",
     "rules": {"choices": [{"value": "m", "label": "Medium"}, {"value": "l", "label": "Large"}]}},
    {"key": "topics", "type": "multiple_choice", "label": "Topics",
     "rules": {"choices": [{"value": "art", "label": "Art"},
                           {"value": "books", "label": "Books"}]}},
    {"key": "two", "type": "page", "label": "Nearly done, {name}",
     "help": "You chose {topics}."},
    {"key": "note", "type": "long_text", "label": "Thanks, {name}! Why {size}?",
     "help": "Said by {name}"},
]  # fmt: skip


def test_earlier_answers_are_piped_into_later_labels_escaped(app, client):
    make_form(app, PIPED, slug="club")
    first = client.get("/f/club")
    two = go(client, first, "one", name="<b>x</b>", size="m", topics=["art", "books"])
    html = two.get_data(as_text=True)
    assert "<b>x</b>" not in html
    assert "Thanks, &lt;b&gt;x&lt;/b&gt;! Why Medium?" in html
    page = parse_page(two)
    assert page.find("label", for_="note").text.strip().startswith("Thanks, <b>x</b>! Why Medium?")
    assert "Said by <b>x</b>" in page.find("small", id="note-help").text
    assert page.find("h2").text == "Nearly done, <b>x</b>"
    assert "You chose Art, Books." in page.text


def test_piped_pages_are_each_respondents_own(app, client):
    make_form(app, PIPED, slug="club")
    other = app.test_client()
    go(client, client.get("/f/club"), "one", name="Ann")
    go(other, other.get("/f/club"), "one")  # no answers: the piped words are empty
    assert "Thanks, Ann! Why ?" in parse_page(client.get("/f/club/p/two")).text
    for _ in range(2):  # served again, perhaps from memory
        assert "Thanks, ! Why ?" in parse_page(other.get("/f/club/p/two")).text
        assert "Thanks, Ann!" in parse_page(client.get("/f/club/p/two")).text


@pytest.mark.parametrize(
    ("label", "path", "message"),
    [
        ("Hello {nobody}", "fields[2].label",
         'Page 1 ("About you"), question "Hello {nobody}": "{nobody}" names no question of '
         "this form."),
        ("Hello {note}", "fields[2].label",
         'Page 1 ("About you"), question "Hello {note}": "{note}" shows the answer to '
         'question "Thanks, {name}! Why {size}?", which is on a later page; only answers '
         "from earlier pages can be shown."),
        ("Hello {name}", "fields[2].label",
         'Page 1 ("About you"), question "Hello {name}": "{name}" shows the answer to '
         'question "Name", which is on the same page; only answers from earlier pages can be '
         "shown."),
    ],
)  # fmt: skip
def test_piping_an_unknown_or_later_question_stops_publishing(app, label, path, message):
    fields = [dict(item) for item in PIPED]
    fields[2]["label"] = label
    made = make_form(app, PIPED, slug="club")
    with app.app_context():
        form = forms.get_form_by_slug(made.slug)
        forms.save_fields(form, fields)
        with pytest.raises(ValidationFailed) as refused:
            forms.publish(form, None)
    assert (refused.value.field, refused.value.message) == (path, message)


def test_piping_into_a_page_title_is_checked_too(app):
    fields = [dict(item) for item in PIPED]
    fields[4]["label"] = "Nearly done, {note}"
    made = make_form(app, PIPED, slug="club")
    with app.app_context():
        form = forms.get_form_by_slug(made.slug)
        forms.save_fields(form, fields)
        problems = [(p.path, p.message) for p in forms.flow_problems_of(form)]
    assert problems == [
        (
            "fields[4].label",
            'Page 2 ("Nearly done, {note}"): "{note}" shows the answer to question "Thanks, '
            '{name}! Why {size}?", which is on the same page; only answers from earlier pages '
            "can be shown.",
        )
    ]


# --- a file and Back --------------------------------------------------------------------------


def test_a_file_sent_on_an_earlier_page_is_kept_after_back_and_continue(app, client):
    fields = [
        {"key": "one", "type": "page", "label": "One"},
        {"key": "photo", "type": "file", "label": "Photo", "required": True},
        {"key": "caption", "type": "short_text", "label": "Caption"},
        {"key": "two", "type": "page", "label": "Two"},
        {"key": "note", "type": "short_text", "label": "Note"},
    ]
    make_form(app, fields, slug="club")
    first = client.get("/f/club")
    data = {
        "_token": page_token(first),
        "_page": "one",
        "photo": (io.BytesIO(png_bytes()), "me.png"),
    }
    assert client.post("/f/club", data=data).headers["Location"] == "/f/club/p/two"
    two = client.get("/f/club/p/two")
    one = client.get(post(client, two, "two", _action="back").headers["Location"])
    assert "You sent me.png" in parse_page(one).find("small", id="photo-help").text

    two = go(client, one, "one", caption="Me")  # no new file chosen
    post(client, two, "two", note="Hi")
    (row,) = fetch_submissions(app, "club")
    assert row.answers["photo"]["name"] == "me.png"
    assert row.answers["caption"] == "Me"
    assert len(fetch_files(app, "club")) == 1
