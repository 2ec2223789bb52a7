"""A form with pages, as a browser without JavaScript fills it in: one page per request,
Back, errors on a page, the final submit, and clients that try to skip pages."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Delivery
from app.models import PartialResponse
from app.models.types import utcnow
from app.services.delivery.worker import Worker
from tests.form_helpers import change_settings
from tests.form_helpers import make_form
from tests.public_helpers import fetch_files
from tests.public_helpers import fetch_submissions
from tests.public_helpers import field_value
from tests.public_helpers import page_token
from tests.public_helpers import parse_page
from tests.public_helpers import png_bytes

MEMBER = {"field": "member", "op": "is", "value": "yes"}
FIELDS = [
    {"key": "about", "type": "page", "label": "About you"},
    {"key": "name", "type": "short_text", "label": "Name", "required": True},
    {"key": "member", "type": "single_choice", "label": "Member?", "required": True,
     "rules": {"choices": ["yes", "no"]},},
    {"key": "number", "type": "short_text", "label": "Membership number", "required": True,
     "show_if": MEMBER},
    {"key": "join", "type": "page", "label": "Joining", "help": "Tell us why.",
     "show_if": {"not": MEMBER}},
    {"key": "why", "type": "long_text", "label": "Why join?", "required": True},
    {"key": "last", "type": "page", "label": "Last words"},
    {"key": "comment", "type": "long_text", "label": "Anything else?"},
]  # fmt: skip


@pytest.fixture
def slug(app):
    return make_form(app, FIELDS, title="Club", slug="club", submit_label="Send it").slug


def post_page(client, response, page, **answers):
    data = {"_token": page_token(response), "_page": page, **answers}
    return client.post("/f/club", data=data)


def test_a_respondent_goes_page_by_page_back_and_forth_and_sends_once(app, client, slug):
    first = client.get("/f/club")
    page = parse_page(first)
    assert "Page 1 of up to 3" in page.text
    assert "About you" in page.text and "Why join?" not in page.text
    assert page.find("input", name="_page").attrs["value"] == "about"
    assert page.find("button", value="back") is None
    assert "Continue" in page.find("button").text

    missing = post_page(client, first, "about", member="no")
    assert missing.status_code == 422
    again = parse_page(missing)
    assert "There is a problem" in again.text and "Name: This field is required." in again.text
    assert field_value(again, "member") == "no"  # what was given is kept

    to_join = post_page(client, missing, "about", name="Ann", member="no", number="sneaked")
    assert to_join.status_code == 303
    assert to_join.headers["Location"] == "/f/club/p/join"
    join = client.get("/f/club/p/join")
    page = parse_page(join)
    assert "Page 2 of up to 3" in page.text and "Tell us why." in page.text
    assert page.find("button", value="back") is not None

    back = post_page(client, join, "join", _action="back", why="To meet people")
    assert back.headers["Location"] == "/f/club/p/about"
    about = client.get("/f/club/p/about")
    assert field_value(parse_page(about), "name") == "Ann"

    forward = post_page(client, about, "about", name="Ann", member="no")
    assert forward.headers["Location"] == "/f/club/p/join"
    join = client.get("/f/club/p/join")
    assert field_value(parse_page(join), "why") == "To meet people"  # kept by Back
    last = client.get(post_page(client, join, "join", why="To meet people").headers["Location"])
    page = parse_page(last)
    assert "Page 3 of up to 3" in page.text
    assert "Send it" in page.find("button").text

    sent = post_page(client, last, "last", comment="See you")
    assert sent.status_code == 303
    assert sent.headers["Location"] == "/f/club/thanks"
    (row,) = fetch_submissions(app, slug)
    assert row.answers == {
        "name": "Ann", "member": "no", "why": "To meet people", "comment": "See you",
    }  # fmt: skip
    assert row.meta["path"] == ["about", "join", "last"]
    assert row.version_id is not None

    repeated = post_page(client, last, "last", comment="See you")  # a double click
    assert repeated.headers["Location"] == "/f/club/thanks"
    assert len(fetch_submissions(app, slug)) == 1


def test_a_member_skips_the_joining_page_and_its_answer_is_never_stored(app, client, slug):
    first = client.get("/f/club")
    to_last = post_page(client, first, "about", name="Bo", member="yes", number="42")
    assert to_last.headers["Location"] == "/f/club/p/last"
    assert client.get("/f/club/p/join").headers["Location"] == "/f/club"  # not on the path
    last = client.get("/f/club/p/last")
    skipped = post_page(client, last, "join", why="sneaked in")
    assert skipped.status_code == 409
    assert "comes later in the form" in skipped.get_data(as_text=True)

    post_page(client, last, "last", comment="")
    (row,) = fetch_submissions(app, slug)
    assert row.answers == {"name": "Bo", "member": "yes", "number": "42", "comment": None}
    assert row.meta["path"] == ["about", "last"]


def test_a_later_page_cannot_be_posted_without_the_earlier_ones(app, client, slug):
    first = client.get("/f/club")
    response = post_page(client, first, "last", comment="Hello")
    assert response.status_code == 409
    assert "Start again from the first page" in response.get_data(as_text=True)
    json_response = client.post(
        "/f/club",
        data={"_page": "last", "comment": "Hello"},
        headers={"Accept": "application/json"},
    )
    assert json_response.status_code == 409
    assert json_response.get_json()["errors"][0]["code"] == "PAGE_NOT_REACHED"
    assert fetch_submissions(app, slug) == []


def test_a_final_page_sent_again_while_the_first_is_stored_gets_the_first_answer(app, client, slug):
    # Two posts of the same final page (a double click) at once both find the answers so far;
    # the one stored second meets the first's idempotency key (from the page's token) and gets
    # its answer. (The same key with another body is refused: see test_idempotency.py.)
    first = client.get("/f/club")
    post_page(client, first, "about", name="Ann", member="yes", number="7")
    last = client.get("/f/club/p/last")
    twin = app.test_client()
    post_page(twin, twin.get("/f/club"), "about", name="Bo", member="yes", number="8")
    sent_first = post_page(twin, last, "last", comment="first")
    assert sent_first.headers["Location"] == "/f/club/thanks"

    again = post_page(client, last, "last", comment="first")
    assert again.status_code == 303
    assert again.headers["Location"] == "/f/club/thanks"
    (row,) = fetch_submissions(app, slug)
    assert row.answers["name"] == "Bo" and row.answers["comment"] == "first"


def test_a_form_of_one_page_that_keeps_answers_stores_no_partial_when_sent(app, client):
    fields = [{"key": "name", "type": "short_text", "label": "Name", "required": True}]
    slug = make_form(app, fields, slug="solo").slug
    allow_saving(app, slug)
    page = client.get("/f/solo")
    assert parse_page(page).find("input", name="_page").attrs["value"] == "page-1"
    sent = client.post(
        "/f/solo", data={"_token": page_token(page), "_page": "page-1", "name": "Al"}
    )
    assert sent.headers["Location"] == "/f/solo/thanks"
    (row,) = fetch_submissions(app, slug)
    assert row.answers == {"name": "Al"}
    assert fetch_partials(app) == []


def test_a_page_is_refused_in_the_answers_of_another_browser(app, client, slug):
    first = client.get("/f/club")
    post_page(client, first, "about", name="Ann", member="no")
    other = app.test_client()
    assert other.get("/f/club/p/join").headers["Location"] == "/f/club"


def test_a_same_page_condition_is_explained_and_an_earlier_page_one_decided(app, client):
    fields = [
        {"key": "one", "type": "page", "label": "One"},
        {"key": "member", "type": "single_choice", "label": "Member?",
         "rules": {"choices": [{"value": "yes", "label": "Yes"}, "no"]}},
        {"key": "number", "type": "short_text", "label": "Number", "show_if": MEMBER},
        {"key": "two", "type": "page", "label": "Two"},
        {"key": "card", "type": "short_text", "label": "Card colour", "show_if": MEMBER},
        {"key": "note", "type": "short_text", "label": "Note"},
    ]  # fmt: skip
    make_form(app, fields, slug="club")
    first = client.get("/f/club")
    hint = parse_page(first).find("div", data_field="number")
    assert "Only if “Member?” is “Yes”." in hint.text
    assert hint.attrs["data-show-if"] == '{"field": "member", "op": "is", "value": "yes"}'

    post_page(client, first, "one", member="no")
    page = parse_page(client.get("/f/club/p/two"))
    assert page.find("div", data_field="card") is None  # decided by page one's answer
    assert page.find("div", data_field="note") is not None
    assert "Only if" not in page.text


def allow_saving(app, slug, **settings):
    change_settings(app, slug, allow_saving=True, **settings)


def fetch_partials(app):
    with app.app_context():
        return list(db.session.scalars(select(PartialResponse)))


def saved_link(response) -> str:
    return parse_page(response).find("input", id="resume-link").attrs["value"]


def test_saved_answers_resume_from_the_link_in_another_browser(app, client, slug):
    allow_saving(app, slug, resume_days=10)
    first = client.get("/f/club")
    assert parse_page(first).find("button", value="save") is not None
    saved = post_page(client, first, "about", name="Ann", member="no", _action="save")
    assert saved.status_code == 200
    link = saved_link(saved)
    assert link.startswith("http://127.0.0.1:5000/f/club/resume/")  # BASE_URL
    assert saved.headers["Referrer-Policy"] == "no-referrer"
    token = link.rsplit("/", 1)[1]
    (partial,) = fetch_partials(app)
    assert partial.resume_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(partial.answers) and partial.answers["name"] == "Ann"
    assert 9 < (partial.expires_at - partial.updated_at).days <= 10

    other = app.test_client()
    resumed = other.get(link.removeprefix("http://127.0.0.1:5000"))
    assert resumed.status_code == 303
    assert resumed.headers["Location"] == "/f/club/p/about"
    about = other.get("/f/club/p/about")
    assert field_value(parse_page(about), "name") == "Ann"
    assert client.get("/f/club/p/about").headers["Location"] == "/f/club"  # the old cookie
    join = other.get(post_page(other, about, "about", name="Ann", member="no").headers["Location"])
    last = other.get(post_page(other, join, "join", why="Friends").headers["Location"])
    post_page(other, last, "last", comment="")
    (row,) = fetch_submissions(app, slug)
    assert row.answers["why"] == "Friends"
    assert fetch_partials(app) == []  # the answers became the submission
    gone = other.get(link.removeprefix("http://127.0.0.1:5000"))
    assert gone.status_code == 409
    assert "expired, or the answers it kept were sent already" in gone.get_data(as_text=True)


def test_the_resume_link_is_emailed_to_the_respondents_own_address(app, client):
    fields = [
        {"key": "email", "type": "email", "label": "Email"},
        {"key": "story", "type": "long_text", "label": "Your story"},
    ]
    make_form(app, fields, slug="club", title="Stories")
    allow_saving(app, "club")
    first = client.get("/f/club")
    assert parse_page(first).find("input", name="_page").attrs["value"] == "page-1"
    saved = post_page(client, first, "page-1", email="ann@example.org", _action="save")
    page = parse_page(saved)
    assert "Email the link to ann@example.org" in page.text
    token = page.find("input", name="resume").attrs["value"]

    emailed = client.post("/f/club/resume/email", data={"resume": token})
    assert "We have emailed the link to ann@example.org." in parse_page(emailed).text
    with app.app_context():
        (delivery,) = db.session.scalars(select(Delivery).where(Delivery.event == "resume_link"))
        assert delivery.payload["to"] == "ann@example.org"
        assert delivery.payload["subject"] == "Finish “Stories” later"
        assert f"http://127.0.0.1:5000/f/club/resume/{token}" in delivery.payload["text"]
    forged = client.post("/f/club/resume/email", data={"resume": "not-a-token"})
    assert forged.status_code == 409


def test_the_worker_purges_expired_partial_responses_and_their_files(app, client):
    fields = [
        {"key": "one", "type": "page", "label": "One"},
        {"key": "photo", "type": "file", "label": "Photo"},
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
    (partial,) = fetch_partials(app)
    assert partial.answers["photo"]["name"] == "me.png"
    assert len(fetch_files(app, "club")) == 1
    other = app.test_client()
    post_page(other, other.get("/f/club"), "one")  # a second respondent, not yet expired

    with app.app_context():
        expiring = db.session.get(PartialResponse, partial.id)
        expiring.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    Worker(app).run_once()

    assert [row.answers for row in fetch_partials(app)] == [{"photo": None}]
    assert fetch_files(app, "club") == []
    assert client.get("/f/club/p/two").headers["Location"] == "/f/club"


def test_the_post_limit_counts_respondents_not_pages(app, client, slug):
    app.config["SUBMISSION_RATE_LIMIT"] = "3 per minute"
    first = client.get("/f/club")
    join = client.get(
        post_page(client, first, "about", name="Ann", member="no").headers["Location"]
    )
    about = client.get(post_page(client, join, "join", _action="back").headers["Location"])
    join = client.get(
        post_page(client, about, "about", name="Ann", member="no").headers["Location"]
    )
    last = client.get(post_page(client, join, "join", why="Friends").headers["Location"])
    assert post_page(client, last, "last").headers["Location"] == "/f/club/thanks"  # 5 posts
    for _ in range(2):
        other = app.test_client()
        assert (
            post_page(other, other.get("/f/club"), "about", name="B", member="no").status_code
            == 303
        )
    late = app.test_client()
    refused = post_page(late, late.get("/f/club"), "about", name="C", member="no")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"]
