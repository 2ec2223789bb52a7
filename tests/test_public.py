"""What respondents and other websites see at /f/<slug>: the page, its errors, the thanks page,
the limits, and the Formspree-compatible endpoint for static sites."""

from __future__ import annotations

import io
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from werkzeug.datastructures import MultiDict

from app.caching import clear_process_caches
from app.services import forms
from tests.form_helpers import change_settings
from tests.form_helpers import make_endpoint
from tests.form_helpers import make_form
from tests.form_helpers import publish_fields
from tests.form_helpers import trash
from tests.public_helpers import CONTACT_ANSWERS
from tests.public_helpers import CONTACT_FIELDS
from tests.public_helpers import EVERY_FIELD
from tests.public_helpers import EVIL_SITE
from tests.public_helpers import OTHER_SITE
from tests.public_helpers import PNG
from tests.public_helpers import REQUIRED_ANSWERS
from tests.public_helpers import SITE
from tests.public_helpers import by_id
from tests.public_helpers import csp_directives
from tests.public_helpers import fetch_endpoint_keys
from tests.public_helpers import fetch_files
from tests.public_helpers import fetch_form
from tests.public_helpers import fetch_submissions
from tests.public_helpers import fetch_version
from tests.public_helpers import field_label
from tests.public_helpers import field_value
from tests.public_helpers import page_token
from tests.public_helpers import parse_page

JSON = {"Accept": "application/json"}
ENDPOINT = "/f/site-contact"
ENDPOINT_THANKS = "/f/site-contact/thanks"


@pytest.fixture(autouse=True)
def _fresh_page_caches():
    clear_process_caches()


@pytest.fixture
def survey(app) -> str:
    """A published form with one question of every type."""
    return make_form(app, EVERY_FIELD, title="Survey", slug="survey").slug


@pytest.fixture
def contact(app) -> str:
    return make_form(app, CONTACT_FIELDS, slug="contact-us").slug


@pytest.fixture
def endpoint(app) -> str:
    """A static-site endpoint that https://site.example may post to."""
    return make_endpoint(app, slug="site-contact", allowed_origins=[SITE])


def png_upload(name: str = "photo.png", content: bytes = PNG):
    return (io.BytesIO(content), name, "application/octet-stream")


# --- the page --------------------------------------------------------------------------------


def test_page_shows_the_title_and_the_description_as_safe_markdown(app, client):
    slug = make_form(
        app,
        EVERY_FIELD,
        title="Team survey",
        slug="team-survey",
        description="Tell us **what you think**.\n\n<script>alert(1)</script>",
    ).slug
    response = client.get(f"/f/{slug}")
    assert response.status_code == 200
    page = parse_page(response)
    assert page.find("title").text == "Team survey"
    assert page.find("h1").text == "Team survey"
    description = page.find(class_="form-description")
    assert description.find("strong").text == "what you think"
    assert description.find("script") is None
    assert "<script>alert(1)</script>" in description.text
    assert "<script>alert(1)" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("key", "label"),
    [
        (item["key"], item["label"])
        for item in EVERY_FIELD
        if item["type"] not in {"hidden", "section"}
    ],
)
def test_every_question_is_labelled(client, survey, key, label):
    page = parse_page(client.get(f"/f/{survey}"))
    assert field_label(page, key).removesuffix(" *") == label
    group = by_id(page, key)
    if group.tag == "fieldset":
        for option in group.find_all("input"):
            assert page.find("label", for_=option.attrs["id"]) is not None


def test_hidden_values_and_sections_have_nothing_to_fill_in(client, survey):
    page = parse_page(client.get(f"/f/{survey}"))
    hidden = page.find("input", name="source")
    assert hidden.attrs["type"] == "hidden"
    assert page.find(data_field="source") is None
    section = page.find(class_="form-section")
    assert section.find("h2").text == "A little more"
    assert section.find("p").text == "Optional questions"
    assert page.find(data_field="more") is None


@pytest.mark.parametrize(
    ("key", "help_text"),
    [("name", "As on your badge"), ("bio", "A line or two"), ("size", "Pick one")],
)
def test_help_text_is_tied_to_its_question(client, survey, key, help_text):
    page = parse_page(client.get(f"/f/{survey}"))
    assert by_id(page, f"{key}-help").text == help_text
    assert by_id(page, key).attrs["aria-describedby"] == f"{key}-help"


def test_question_without_help_points_to_nothing(client, survey):
    page = parse_page(client.get(f"/f/{survey}"))
    assert not by_id(page, "email").has("aria-describedby")


@pytest.mark.parametrize(
    ("key", "required"),
    [
        (item["key"], item.get("required", False))
        for item in EVERY_FIELD
        if item["type"] not in {"hidden", "section"}
    ],
)
def test_required_questions_are_marked_and_others_are_not(client, survey, key, required):
    page = parse_page(client.get(f"/f/{survey}"))
    question = page.find(data_field=key)
    assert len(question.find_all(class_="required-mark")) == (1 if required else 0)
    controls = [e for e in question.iter() if e.tag in {"input", "select", "textarea"}]
    assert any(control.has("required") for control in controls) == required


def test_page_carries_an_empty_honeypot_that_people_do_not_see(client, survey):
    page = parse_page(client.get(f"/f/{survey}"))
    trap = page.find(class_="trap")
    assert trap.attrs["aria-hidden"] == "true"
    honeypot = trap.find("input", name="_gotcha")
    assert honeypot.attrs["tabindex"] == "-1"
    assert honeypot.attrs["autocomplete"] == "off"
    assert not honeypot.attrs.get("value")


def test_page_posts_to_itself_with_files_allowed(client, survey):
    form = parse_page(client.get(f"/f/{survey}")).find("form")
    assert form.attrs["method"] == "post"
    assert form.attrs["action"] == f"/f/{survey}"
    assert form.attrs["enctype"] == "multipart/form-data"


def test_every_page_view_gets_its_own_one_time_token(client, survey):
    tokens = {page_token(client.get(f"/f/{survey}")) for _ in range(3)}
    assert len(tokens) == 3
    assert "" not in tokens


@pytest.mark.parametrize("allowed_origins", [[], [SITE]])
def test_page_is_never_cached_and_never_framed(app, client, allowed_origins):
    slug = make_form(app, CONTACT_FIELDS, allowed_origins=allowed_origins).slug
    response = client.get(f"/f/{slug}")
    assert response.headers["Cache-Control"] == "no-store"
    assert csp_directives(response)["frame-ancestors"] == "'none'"


def test_embed_may_be_framed_by_the_forms_websites_only(app, client):
    slug = make_form(app, CONTACT_FIELDS, allowed_origins=[SITE, OTHER_SITE]).slug
    response = client.get(f"/f/{slug}/embed")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert csp_directives(response)["frame-ancestors"] == f"{SITE} {OTHER_SITE}"
    page = parse_page(response)
    assert page.find("form").attrs["action"] == f"/f/{slug}/embed"
    assert "embedded" in page.find("body").attrs["class"].split()


def test_embed_without_allowed_websites_cannot_be_framed(client, contact):
    response = client.get(f"/f/{contact}/embed")
    assert response.status_code == 200
    assert csp_directives(response)["frame-ancestors"] == "'none'"


def test_form_action_allows_the_redirect_after_the_post(app, client):
    slug = make_form(app, CONTACT_FIELDS, redirect_url="https://example.org/merci").slug
    sources = csp_directives(client.get(f"/f/{slug}"))["form-action"].split()
    assert "'self'" in sources
    assert "https://example.org" in sources


@pytest.mark.parametrize(
    ("query", "key", "shown"),
    [
        ({"name": "Ann"}, "name", "Ann"),
        ({"bio": "Gardener"}, "bio", "Gardener"),
        ({"email": "ann@example.com"}, "email", "ann@example.com"),
        ({"source": "newsletter"}, "source", "newsletter"),
        ({"size": "m"}, "size", "m"),
        ({"country": "de"}, "country", "de"),
        ({"topics": ["art", "cinema"]}, "topics", ["art", "cinema"]),
        ({"stars": "4"}, "stars", "4"),
    ],
)
def test_link_prefills_questions(client, survey, query, key, shown):
    page = parse_page(client.get(f"/f/{survey}", query_string=query))
    assert field_value(page, key) == shown


def test_prefill_is_not_served_to_the_next_visitor(client, survey):
    client.get(f"/f/{survey}", query_string={"name": "Ann"})
    page = parse_page(client.get(f"/f/{survey}"))
    assert field_value(page, "name") == ""


@pytest.mark.parametrize(
    ("style", "value", "unticked"),
    [
        ("checkbox", "y", False),
        ("checkbox", "true", False),
        ("checkbox", "on", False),
        ("yes_no", "yes", None),
    ],
)
def test_link_cannot_give_consent(app, client, style, value, unticked):
    fields = [
        {"key": "name", "type": "short_text", "label": "Name"},
        {"key": "agree", "type": "consent", "label": "I agree", "rules": {"style": style}},
    ]
    slug = make_form(app, fields).slug
    page = parse_page(client.get(f"/f/{slug}", query_string={"agree": value, "name": "Ann"}))
    assert field_value(page, "agree") == unticked
    assert field_value(page, "name") == "Ann"


def test_link_cannot_fill_a_file_question(client, survey):
    response = client.get(f"/f/{survey}", query_string={"photo": f"{EVIL_SITE}/x.png"})
    assert response.status_code == 200
    assert field_value(parse_page(response), "photo") is None
    assert EVIL_SITE not in response.get_data(as_text=True)


# --- forms that take no answers now ----------------------------------------------------------


def make_unavailable(app, state: str) -> str:
    """A form in ``state``; its slug."""
    if state == "unknown":
        return "no-such-form"
    if state == "draft":
        return make_form(app, CONTACT_FIELDS, publish=False).slug
    if state == "closed":
        return make_form(app, CONTACT_FIELDS, status="closed").slug
    if state == "expired":
        past = datetime.now(UTC) - timedelta(minutes=1)
        return make_form(app, CONTACT_FIELDS, closes_at=past).slug
    if state == "full":
        slug = make_form(app, CONTACT_FIELDS, max_responses=1).slug
        assert app.test_client().post(f"/f/{slug}", data=CONTACT_ANSWERS).status_code == 303
        return slug
    slug = make_form(app, CONTACT_FIELDS).slug
    trash(app, slug)
    return slug


UNAVAILABLE = [
    ("draft", 404, "FORM_NOT_FOUND", "This form does not exist."),
    ("trashed", 404, "FORM_NOT_FOUND", "This form does not exist."),
    ("unknown", 404, "FORM_NOT_FOUND", "This form does not exist."),
    ("closed", 403, "INACTIVE", "This form is closed and no longer accepts responses."),
    ("expired", 403, "INACTIVE", "This form has closed; the deadline has passed."),
    ("full", 403, "INACTIVE", "This form has received all the responses it can take."),
]


@pytest.mark.parametrize(("state", "status", "code", "message"), UNAVAILABLE)
@pytest.mark.parametrize("path", ["/f/{slug}", "/f/{slug}/embed"])
def test_unavailable_form_gets_a_friendly_page(app, client, state, status, code, message, path):
    slug = make_unavailable(app, state)
    response = client.get(path.format(slug=slug))
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = parse_page(response)
    assert page.find("h1").text == "This form is not available"
    assert message in page.find("main").text
    assert page.find("form") is None


@pytest.mark.parametrize(("state", "status", "code", "message"), UNAVAILABLE)
def test_unavailable_form_answers_json_clients(app, client, state, status, code, message):
    slug = make_unavailable(app, state)
    response = client.get(f"/f/{slug}", headers=JSON)
    assert response.status_code == status
    assert response.json == {
        "error": message,
        "errors": [{"field": None, "code": code, "message": message}],
    }


@pytest.mark.parametrize(("state", "status", "code", "message"), UNAVAILABLE)
def test_unavailable_form_takes_no_submissions(app, client, state, status, code, message):
    slug = make_unavailable(app, state)
    stored_before = [] if state == "unknown" else fetch_submissions(app, slug)
    response = client.post(f"/f/{slug}", data=CONTACT_ANSWERS, headers=JSON)
    assert response.status_code == status
    assert response.json["errors"][0]["code"] == code
    if state != "unknown":
        assert len(fetch_submissions(app, slug)) == len(stored_before)


def test_form_with_a_deadline_ahead_is_open(app, client):
    slug = make_form(app, CONTACT_FIELDS, closes_at=datetime.now(UTC) + timedelta(days=1)).slug
    assert client.get(f"/f/{slug}").status_code == 200
    assert client.post(f"/f/{slug}", data=CONTACT_ANSWERS).status_code == 303


# --- answers that need fixing ----------------------------------------------------------------

BAD_SURVEY = MultiDict(
    [
        ("name", ""),
        ("bio", "Gardener\nand cook"),
        ("email", "not-an-email"),
        ("age", "old"),
        ("phone", "+44 20 7946 0958"),
        ("website", "example.org"),
        ("birthday", "1983-04-05"),
        ("arrival", "09:30"),
        ("size", "m"),
        ("country", "de"),
        ("topics", "art"),
        ("topics", "cinema"),
        ("stars", "4"),
        ("source", "newsletter"),
    ]
)
BAD_SURVEY_ERRORS = [
    ("name", "This field is required."),
    ("email", "An email address must have an @-sign."),
    ("age", "Enter a whole number."),
    ("website", "Enter a full web address starting with https:// or http://."),
    ("agree", "Please tick this box to go on."),
]


def test_answers_that_need_fixing_come_back_with_every_answer_kept(app, client, survey):
    response = client.post(f"/f/{survey}", data=BAD_SURVEY)
    assert response.status_code == 422
    page = parse_page(response)
    assert page.find("title").text == "Error: Survey"
    shown = {key: field_value(page, key) for key in BAD_SURVEY}
    assert shown == {
        "name": "",
        "bio": "Gardener\nand cook",
        "email": "not-an-email",
        "age": "old",
        "phone": "+44 20 7946 0958",
        "website": "example.org",
        "birthday": "1983-04-05",
        "arrival": "09:30",
        "size": "m",
        "country": "de",
        "topics": ["art", "cinema"],
        "stars": "4",
        "source": "newsletter",
    }
    assert field_value(page, "agree") is False
    assert page_token(response)
    assert fetch_submissions(app, survey) == []


@pytest.mark.parametrize(("key", "message"), BAD_SURVEY_ERRORS)
def test_each_message_sits_next_to_its_question(client, survey, key, message):
    page = parse_page(client.post(f"/f/{survey}", data=BAD_SURVEY))
    error = page.find(data_field=key).find(class_="field-error")
    assert error.text == message
    assert error.attrs["id"] == f"{key}-error"
    control = by_id(page, key)
    assert f"{key}-error" in control.attrs["aria-describedby"].split()
    assert control.attrs["aria-invalid"] == "true"


@pytest.mark.parametrize("key", ["bio", "phone", "size", "country", "topics", "stars"])
def test_questions_answered_well_show_no_error(client, survey, key):
    page = parse_page(client.post(f"/f/{survey}", data=BAD_SURVEY))
    assert page.find(data_field=key).find(class_="field-error") is None


def test_error_summary_links_to_each_question_in_order(client, survey):
    page = parse_page(client.post(f"/f/{survey}", data=BAD_SURVEY))
    summary = page.find(class_="error-summary")
    assert summary.attrs["role"] == "alert"
    assert summary.find("h2").text == "There are 5 problems"
    links = summary.find_all("a")
    assert [link.attrs["href"] for link in links] == [f"#{key}" for key, _ in BAD_SURVEY_ERRORS]
    labels = {item["key"]: item["label"] for item in EVERY_FIELD}
    assert [link.text for link in links] == [
        f"{labels[key]}: {message}" for key, message in BAD_SURVEY_ERRORS
    ]
    for link in links:
        by_id(page, link.attrs["href"].removeprefix("#"))


def test_error_in_a_choice_group_is_shown_on_the_group(client, survey):
    response = client.post(f"/f/{survey}", data={**REQUIRED_ANSWERS, "size": ""})
    assert response.status_code == 422
    page = parse_page(response)
    summary = page.find(class_="error-summary")
    assert summary.find("h2").text == "There is a problem"
    assert [link.attrs["href"] for link in summary.find_all("a")] == ["#size-0"]
    group = by_id(page, "size")
    assert group.find(class_="field-error").text == "Please choose an option."
    assert "size-error" in group.attrs["aria-describedby"].split()
    assert all(option.attrs["aria-invalid"] == "true" for option in group.find_all("input"))


@pytest.mark.parametrize(
    ("changes", "focused"),
    [
        ({"name": ""}, "name"),
        ({"email": "nope"}, "email"),
        ({"agree": ""}, "agree"),
        ({"size": ""}, "size-0"),
        ({"topics": "opera"}, "topics-0"),
    ],
    ids=["text", "email", "consent", "radio-group", "checkbox-group"],
)
def test_first_question_with_an_error_gets_the_focus(client, survey, changes, focused):
    response = client.post(f"/f/{survey}", data={**REQUIRED_ANSWERS, **changes})
    assert response.status_code == 422
    page = parse_page(response)
    autofocused = [element.attrs["id"] for element in page.iter() if element.has("autofocus")]
    assert autofocused == [focused]
    assert page.find(class_="error-summary").find("a").attrs["href"] == f"#{focused}"


def test_page_without_errors_focuses_nothing(client, survey):
    page = parse_page(client.get(f"/f/{survey}"))
    assert not [element for element in page.iter() if element.has("autofocus")]
    assert page.find(class_="error-summary") is None


# --- accepted answers ------------------------------------------------------------------------


def test_complete_answers_are_stored_by_key_and_lead_to_thanks(app, client, survey):
    data = MultiDict(BAD_SURVEY)
    fixes = {
        "name": "Ann",
        "email": "Ann@Example.com",
        "age": "42",
        "website": "https://ann.example",
        "agree": "y",
        "photo": png_upload("me.png"),
    }
    for key, value in fixes.items():
        data[key] = value  # replaces what BAD_SURVEY sent
    response = client.post(f"/f/{survey}", data=data)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/f/{survey}/thanks"
    [row] = fetch_submissions(app, survey)
    form = fetch_form(app, survey)
    assert row.version_id == form.published_version_id
    photo = row.answers.pop("photo")
    assert row.answers == {
        "name": "Ann",
        "bio": "Gardener\nand cook",
        "email": "Ann@example.com",
        "age": 42,
        "phone": "+44 20 7946 0958",
        "website": "https://ann.example",
        "birthday": "1983-04-05",
        "arrival": "09:30",
        "size": "m",
        "country": "de",
        "topics": ["art", "cinema"],
        "agree": True,
        "stars": 4,
        "source": "newsletter",
    }
    assert photo["name"] == "me.png"
    assert row.is_spam is False
    assert form.submission_count == 1
    assert form.last_submission_at is not None


def test_questions_left_empty_are_stored_as_no_answer(app, client, survey):
    assert client.post(f"/f/{survey}", data=REQUIRED_ANSWERS).status_code == 303
    [row] = fetch_submissions(app, survey)
    takes_answer = [item["key"] for item in EVERY_FIELD if item["type"] != "section"]
    assert sorted(row.answers) == sorted(takes_answer)
    assert {key: value for key, value in row.answers.items() if value is not None} == {
        "name": "Ann",
        "email": "ann@example.com",
        "size": "m",
        "agree": True,
    }


def test_form_with_a_redirect_url_sends_people_there(app, client):
    slug = make_form(app, CONTACT_FIELDS, redirect_url="https://example.org/merci").slug
    response = client.post(f"/f/{slug}", data=CONTACT_ANSWERS)
    assert response.status_code == 303
    assert response.headers["Location"] == "https://example.org/merci"
    assert len(fetch_submissions(app, slug)) == 1


def test_thanks_page_shows_the_confirmation_message_as_safe_markdown(app, client):
    message = "**Thank you!** Read [our blog](https://blog.example).\n\n<script>alert(1)</script>"
    slug = make_form(app, CONTACT_FIELDS, confirmation_message=message).slug
    response = client.post(f"/f/{slug}", data=CONTACT_ANSWERS)
    page = parse_page(client.get(response.headers["Location"]))
    assert page.find("h1").text == "Thank you"
    body = page.find(class_="form-description")
    assert body.find("strong").text == "Thank you!"
    link = body.find("a")
    assert link.attrs["href"] == "https://blog.example"
    assert set(link.attrs["rel"].split()) == {"nofollow", "noopener", "noreferrer"}
    assert body.find("script") is None
    assert "<script>alert(1)</script>" in body.text


def test_thanks_page_without_a_message_says_the_response_is_recorded(client, contact):
    response = client.post(f"/f/{contact}", data=CONTACT_ANSWERS)
    thanks = client.get(response.headers["Location"])
    assert thanks.status_code == 200
    page = parse_page(thanks)
    assert "Your response has been recorded." in page.find("main").text
    again = page.find("a", href=f"/f/{contact}")
    assert again.text == "Send another response"


def test_embedded_form_thanks_inside_the_frame(client, contact):
    response = client.post(f"/f/{contact}/embed", data=CONTACT_ANSWERS)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/f/{contact}/thanks?embed=1"
    page = parse_page(client.get(response.headers["Location"]))
    assert "embedded" in page.find("body").attrs["class"].split()
    assert page.find("a", href=f"/f/{contact}/embed").text == "Send another response"


# --- one response, once ----------------------------------------------------------------------


def test_one_response_per_browser(app, client):
    slug = make_form(app, CONTACT_FIELDS, one_response_per_browser=True).slug
    form_id = fetch_form(app, slug).id
    first = client.post(f"/f/{slug}", data=CONTACT_ANSWERS)
    assert first.status_code == 303
    cookie = client.get_cookie(f"formyard_responded_{form_id}", path=f"/f/{slug}")
    assert cookie is not None
    assert cookie.http_only

    again = client.get(f"/f/{slug}")
    assert again.status_code == 200
    page = parse_page(again)
    assert page.find("h1").text == "You have already responded"
    assert page.find("form") is None
    second = client.post(f"/f/{slug}", data={**CONTACT_ANSWERS, "name": "Ann again"})
    assert second.status_code == 409
    assert parse_page(second).find("h1").text == "You have already responded"
    thanks = parse_page(client.get(f"/f/{slug}/thanks"))
    assert thanks.find("a", href=f"/f/{slug}") is None
    assert [row.answers["name"] for row in fetch_submissions(app, slug)] == ["Ann"]

    other_browser = app.test_client()
    assert other_browser.get(f"/f/{slug}").status_code == 200
    assert other_browser.post(f"/f/{slug}", data=CONTACT_ANSWERS).status_code == 303
    assert len(fetch_submissions(app, slug)) == 2


def test_double_submit_of_one_page_is_stored_once(app, client, contact):
    token = page_token(client.get(f"/f/{contact}"))
    first = client.post(f"/f/{contact}", data={**CONTACT_ANSWERS, "_token": token})
    second = client.post(f"/f/{contact}", data={**CONTACT_ANSWERS, "_token": token})
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"] == f"/f/{contact}/thanks"
    assert len(fetch_submissions(app, contact)) == 1
    assert fetch_form(app, contact).submission_count == 1


def test_two_page_views_are_two_responses(app, client, contact):
    for _ in range(2):
        token = page_token(client.get(f"/f/{contact}"))
        client.post(f"/f/{contact}", data={**CONTACT_ANSWERS, "_token": token})
    assert len(fetch_submissions(app, contact)) == 2


def test_double_submit_for_the_last_place_is_thanked_twice(app, client):
    slug = make_form(app, CONTACT_FIELDS, max_responses=1).slug
    token = page_token(client.get(f"/f/{slug}"))
    first = client.post(f"/f/{slug}", data={**CONTACT_ANSWERS, "_token": token})
    second = client.post(f"/f/{slug}", data={**CONTACT_ANSWERS, "_token": token})
    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == f"/f/{slug}/thanks"
    assert len(fetch_submissions(app, slug)) == 1


@pytest.mark.parametrize("token", ["forged", "eyJmIjo5OTl9.AAAA.BBBB"])
def test_forged_page_token_is_not_a_retry(app, client, contact, token):
    for _ in range(2):
        response = client.post(f"/f/{contact}", data={**CONTACT_ANSWERS, "_token": token})
        assert response.status_code == 303
    assert len(fetch_submissions(app, contact)) == 2


def test_idempotency_key_makes_a_json_retry_harmless(app, client, contact):
    headers = {"Idempotency-Key": "order-1234", **JSON}
    first = client.post(f"/f/{contact}", json=CONTACT_ANSWERS, headers=headers)
    second = client.post(f"/f/{contact}", json=CONTACT_ANSWERS, headers=headers)
    assert first.status_code == second.status_code == 200
    thanks = f"http://localhost/f/{contact}/thanks"
    assert first.json == second.json == {"ok": True, "next": thanks}
    [row] = fetch_submissions(app, contact)
    assert row.idempotency_key == "order-1234"
    assert row.answers == CONTACT_ANSWERS
    other = client.post(f"/f/{contact}", json=CONTACT_ANSWERS, headers={"Idempotency-Key": "2"})
    assert other.status_code == 303
    assert len(fetch_submissions(app, contact)) == 2


# --- bots, floods and big bodies -------------------------------------------------------------


@pytest.mark.parametrize(
    "answers", [CONTACT_ANSWERS, {"name": "", "email": "not an address"}], ids=["valid", "junk"]
)
def test_filled_honeypot_is_kept_as_spam_and_looks_accepted(app, client, contact, answers):
    response = client.post(f"/f/{contact}", data={**answers, "_gotcha": "http://spam.example"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/f/{contact}/thanks"
    [row] = fetch_submissions(app, contact)
    assert row.is_spam is True
    assert row.spam_reason == "honeypot"
    assert "_gotcha" not in row.answers
    form = fetch_form(app, contact)
    assert form.submission_count == 0
    assert form.last_submission_at is None


def test_filled_honeypot_answers_json_clients_with_ok(app, client, contact):
    response = client.post(f"/f/{contact}", json={**CONTACT_ANSWERS, "_gotcha": "x"}, headers=JSON)
    assert response.status_code == 200
    assert response.json == {"ok": True, "next": f"http://localhost/f/{contact}/thanks"}
    assert [row.is_spam for row in fetch_submissions(app, contact)] == [True]


def test_eleventh_post_in_a_minute_gets_a_friendly_429(app, client, contact):
    for _ in range(10):
        assert client.post(f"/f/{contact}", data={}).status_code == 422
    refused = client.post(f"/f/{contact}", data=CONTACT_ANSWERS)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    page = parse_page(refused)
    assert "Too many requests. Please wait a moment and try again." in page.find("main").text
    assert fetch_submissions(app, contact) == []


def test_eleventh_post_in_a_minute_gets_json_429(client, contact):
    for _ in range(10):
        client.post(f"/f/{contact}", json=CONTACT_ANSWERS, headers=JSON)
    refused = client.post(f"/f/{contact}", json=CONTACT_ANSWERS, headers=JSON)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json["errors"][0]["code"] == "TOO_MANY_REQUESTS"


def test_rate_limit_counts_per_form_and_per_address(app, client, contact):
    other = make_form(app, CONTACT_FIELDS, title="Other form", slug="other-form").slug
    for _ in range(10):
        client.post(f"/f/{contact}", data=CONTACT_ANSWERS)
    assert client.post(f"/f/{contact}", data=CONTACT_ANSWERS).status_code == 429
    assert client.post(f"/f/{other}", data=CONTACT_ANSWERS).status_code == 303
    client.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    assert client.post(f"/f/{contact}", data=CONTACT_ANSWERS).status_code == 303
    assert len(fetch_submissions(app, contact)) == 11


def test_embedded_form_shares_the_forms_rate_limit(client, contact):
    for _ in range(10):
        client.post(f"/f/{contact}", data={})
    assert client.post(f"/f/{contact}/embed", data=CONTACT_ANSWERS).status_code == 429


@pytest.mark.parametrize("with_file", [False, True], ids=["text", "file"])
def test_body_over_the_size_limit_gets_a_friendly_413(app, client, with_file):
    slug = make_form(
        app, [*CONTACT_FIELDS, {"key": "photo", "type": "file", "label": "Photo"}]
    ).slug
    app.config["MAX_CONTENT_LENGTH"] = 2048
    data = {**CONTACT_ANSWERS}
    if with_file:
        data["photo"] = png_upload(content=PNG + b"\0" * 4096)
    else:
        data["message"] = "x" * 4096
    response = client.post(f"/f/{slug}", data=data)
    assert response.status_code == 413
    assert "What you sent is too large." in parse_page(response).find("main").text
    assert fetch_submissions(app, slug) == []
    assert fetch_files(app, slug) == []


def test_body_over_the_size_limit_answers_json_413(app, client, contact):
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = client.post(
        f"/f/{contact}", data={**CONTACT_ANSWERS, "message": "x" * 4096}, headers=JSON
    )
    assert response.status_code == 413
    [error] = response.json["errors"]
    assert error["code"] == "FILES_TOO_BIG"
    assert error["field"] is None
    assert response.json["error"] == error["message"]


# --- files -----------------------------------------------------------------------------------

PHOTO_FIELDS = [
    {"key": "name", "type": "short_text", "label": "Name", "required": True},
    {"key": "photo", "type": "file", "label": "Photo", "rules": {"accept": ["image"]}},
]


def test_uploaded_photo_is_stored_with_its_bytes(app, client):
    slug = make_form(app, PHOTO_FIELDS).slug
    response = client.post(
        f"/f/{slug}", data={"name": "Ann", "photo": png_upload("holiday photo.png")}
    )
    assert response.status_code == 303
    [row] = fetch_submissions(app, slug)
    [stored] = fetch_files(app, slug)
    assert stored.data == PNG
    assert stored.filename == "holiday photo.png"
    assert stored.content_type == "image/png"
    assert stored.size == len(PNG)
    assert stored.field_key == "photo"
    assert stored.submission_id == row.id
    assert row.answers == {
        "name": "Ann",
        "photo": {
            "file_id": stored.id,
            "name": "holiday photo.png",
            "size": len(PNG),
            "content_type": "image/png",
        },
    }


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("photo.png", b"just some text, not a picture\n", "is not what its name (.png) says"),
        ("photo.exe", b"MZ\x90\x00\x03" + b"\x00" * 64, "This type of file is not accepted here"),
        ("notes.txt", b"hello\n", "This type of file is not accepted here"),
    ],
    ids=["text-named-png", "program", "text-file"],
)
def test_file_that_is_not_an_accepted_image_is_refused(app, client, filename, content, message):
    slug = make_form(app, PHOTO_FIELDS).slug
    response = client.post(
        f"/f/{slug}", data={"name": "Ann", "photo": png_upload(filename, content)}
    )
    assert response.status_code == 422
    page = parse_page(response)
    assert message in page.find(data_field="photo").find(class_="field-error").text
    assert field_value(page, "name") == "Ann"
    assert fetch_submissions(app, slug) == []
    assert fetch_files(app, slug) == []


def test_refused_file_has_its_code_for_json_clients(app, client):
    slug = make_form(app, PHOTO_FIELDS).slug
    response = client.post(
        f"/f/{slug}",
        data={"name": "Ann", "photo": png_upload("photo.png", b"plain text\n")},
        headers=JSON,
    )
    assert response.status_code == 422
    [error] = response.json["errors"]
    assert error["field"] == "photo"
    assert error["code"] == "FILE_TYPE_NOT_ALLOWED"


# --- versions --------------------------------------------------------------------------------


def test_submissions_keep_the_version_they_answered(app, client):
    first_fields = [
        {"key": "name", "type": "short_text", "label": "Name", "required": True},
        {"key": "colour", "type": "short_text", "label": "Favourite colour"},
        {"key": "email", "type": "email", "label": "Email"},
    ]
    slug = make_form(app, first_fields).slug
    data = {"name": "Ann", "colour": "green", "email": "ann@example.com"}
    assert client.post(f"/f/{slug}", data=data).status_code == 303

    second_fields = [
        {"key": "name", "type": "short_text", "label": "Full name", "required": True},
        {"key": "email", "type": "email", "label": "Email"},
        {"key": "city", "type": "short_text", "label": "City", "required": True},
    ]
    second_id = publish_fields(app, slug, second_fields)
    page = parse_page(client.get(f"/f/{slug}"))
    assert field_label(page, "name") == "Full name *"
    assert field_label(page, "city") == "City *"
    assert page.find(id="colour") is None
    data = {"name": "Bea", "email": "bea@example.com", "city": "Lyon"}
    assert client.post(f"/f/{slug}", data=data).status_code == 303

    old, new = fetch_submissions(app, slug)
    assert old.answers == {"name": "Ann", "colour": "green", "email": "ann@example.com"}
    assert new.answers == {"name": "Bea", "email": "bea@example.com", "city": "Lyon"}
    assert new.version_id == second_id
    first_version = fetch_version(app, old.version_id)
    assert first_version.number == 1
    assert {spec.key: spec.label for spec in first_version.specs} == {
        "name": "Name",
        "colour": "Favourite colour",
        "email": "Email",
    }


def test_new_form_never_shows_the_fields_of_a_purged_one(app, client):
    old = make_form(
        app, [{"key": "colour", "type": "short_text", "label": "Colour"}], title="Old", slug=None
    ).slug
    assert client.get(f"/f/{old}").status_code == 200
    trash(app, old)
    with app.app_context():
        forms.purge_trashed_forms(now=datetime.now(UTC) + timedelta(days=31))
    new = make_form(
        app, [{"key": "city", "type": "short_text", "label": "City"}], title="New", slug=None
    ).slug
    page = parse_page(client.get(f"/f/{new}"))
    assert field_label(page, "city") == "City"
    assert page.find(id="colour") is None
    assert client.post(f"/f/{new}", data={"city": "Lyon"}).status_code == 303
    assert [row.answers for row in fetch_submissions(app, new)] == [{"city": "Lyon"}]


# --- posts from other websites ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "cors"),
    [(SITE, SITE), (f"{SITE}/", f"{SITE}/"), ("http://localhost", None)],
)
def test_built_form_takes_posts_from_its_websites(app, client, origin, cors):
    slug = make_form(app, CONTACT_FIELDS, allowed_origins=[SITE]).slug
    response = client.post(f"/f/{slug}", data=CONTACT_ANSWERS, headers={"Origin": origin})
    assert response.status_code == 303
    assert response.headers.get("Access-Control-Allow-Origin") == cors
    assert len(fetch_submissions(app, slug)) == 1


@pytest.mark.parametrize("origin", [EVIL_SITE, "null", "https://site.example.evil.example"])
def test_built_form_refuses_posts_from_other_websites(app, client, origin):
    slug = make_form(app, CONTACT_FIELDS, allowed_origins=[SITE]).slug
    response = client.post(f"/f/{slug}", data=CONTACT_ANSWERS, headers={"Origin": origin})
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "does not accept submissions from" in parse_page(response).find("main").text
    as_json = client.post(f"/f/{slug}", data=CONTACT_ANSWERS, headers={"Origin": origin, **JSON})
    assert as_json.status_code == 403
    assert as_json.json["errors"][0]["code"] == "ORIGIN_NOT_ALLOWED"
    assert fetch_submissions(app, slug) == []


# --- the static-site endpoint ----------------------------------------------------------------

SITE_FIELDS = {"name": "Ann", "email": "ann@example.com", "message": "Hi!", "company": "Acme"}


@pytest.mark.parametrize("body", ["urlencoded", "multipart", "json"])
def test_endpoint_keeps_every_posted_field(app, client, endpoint, body):
    if body == "json":
        response = client.post(ENDPOINT, json=SITE_FIELDS, headers=JSON)
        assert response.status_code == 200
    else:
        data = dict(SITE_FIELDS)
        if body == "multipart":
            data["attachment"] = png_upload("map.png")
        response = client.post(ENDPOINT, data=data)
        assert response.status_code == 303
        assert response.headers["Location"] == ENDPOINT_THANKS
    [row] = fetch_submissions(app, endpoint)
    assert row.version_id is None
    answers = dict(row.answers)
    if body == "multipart":
        [stored] = fetch_files(app, endpoint)
        assert answers.pop("attachment") == {
            "file_id": stored.id,
            "name": "map.png",
            "size": len(PNG),
            "content_type": "image/png",
        }
        assert stored.data == PNG
        assert stored.submission_id == row.id
    assert answers == SITE_FIELDS
    assert fetch_form(app, endpoint).submission_count == 1


@pytest.mark.parametrize("body", ["urlencoded", "json"])
def test_repeated_field_name_keeps_every_value(app, client, endpoint, body):
    if body == "json":
        client.post(ENDPOINT, json={"name": "Ann", "interest": ["hiking", "jazz"]})
    else:
        data = MultiDict([("name", "Ann"), ("interest", "hiking"), ("interest", "jazz")])
        client.post(ENDPOINT, data=data)
    [row] = fetch_submissions(app, endpoint)
    assert row.answers == {"name": "Ann", "interest": ["hiking", "jazz"]}


def test_special_fields_steer_the_submission_and_only_the_address_and_subject_are_answers(
    app, client, endpoint
):
    data = {
        "name": "Ann",
        "message": "Hi!",
        "_subject": "New lead from the website",
        "_replyto": "ann@example.com",
        "_cc": "boss@example.com, not an address, team@example.com",
        "_next": f"{SITE}/thanks.html",
        "_gotcha": "",
    }
    response = client.post(ENDPOINT, data=data)
    assert response.status_code == 303
    assert response.headers["Location"] == f"{SITE}/thanks.html"
    [row] = fetch_submissions(app, endpoint)
    assert row.answers == {
        "name": "Ann",
        "message": "Hi!",
        "_subject": "New lead from the website",
        "_replyto": "ann@example.com",
    }
    assert row.is_spam is False
    assert row.meta["subject"] == "New lead from the website"
    assert row.meta["reply_to"] == "ann@example.com"
    assert row.meta["cc"] == ["boss@example.com", "team@example.com"]
    assert row.meta["next"] == f"{SITE}/thanks.html"
    assert fetch_endpoint_keys(app, endpoint) == ["_replyto", "_subject", "message", "name"]


@pytest.mark.parametrize(
    ("data", "reply_to"),
    [
        ({"email": "bea@example.com", "message": "Hi"}, "bea@example.com"),
        ({"email": "bea@example.com", "_replyto": "ann@example.com"}, "ann@example.com"),
        ({"message": "Hi"}, None),
    ],
)
def test_reply_to_falls_back_to_the_email_field(app, client, endpoint, data, reply_to):
    assert client.post(ENDPOINT, data=data).status_code == 303
    [row] = fetch_submissions(app, endpoint)
    assert row.meta.get("reply_to") == reply_to


def test_endpoint_refuses_an_invalid_email_field(app, client, endpoint):
    response = client.post(
        ENDPOINT, data={"email": "not-an-address", "message": "Hi"}, headers=JSON
    )
    assert response.status_code == 422
    assert response.json == {
        "error": "1 field needs attention.",
        "errors": [
            {"field": "email", "code": "TYPE_EMAIL", "message": "Enter a valid email address."}
        ],
    }
    assert fetch_submissions(app, endpoint) == []


def test_endpoint_shows_people_a_page_saying_what_to_fix(app, client, endpoint):
    response = client.post(
        ENDPOINT,
        data={"email": "not-an-address", "message": "Hi"},
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
    )
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert "Enter a valid email address." in parse_page(response).find("main").text


@pytest.mark.parametrize(
    "data",
    [{}, {"name": "", "message": "   "}, {"_subject": "Hello", "_next": f"{SITE}/thanks.html"}],
    ids=["nothing", "blanks", "only-special-fields"],
)
def test_empty_post_is_refused(app, client, endpoint, data):
    response = client.post(ENDPOINT, data=data, headers=JSON)
    assert response.status_code == 422
    assert response.json["error"] == "The form was sent empty."
    assert [error["code"] for error in response.json["errors"]] == ["EMPTY"]
    assert fetch_submissions(app, endpoint) == []


@pytest.mark.parametrize(
    ("next_value", "referrer", "location"),
    [
        (f"{SITE}/thanks.html", None, f"{SITE}/thanks.html"),
        (f"{SITE}/thanks.html?lang=fr#top", None, f"{SITE}/thanks.html?lang=fr#top"),
        ("/thanks.html", f"{SITE}/contact.html", f"{SITE}/thanks.html"),
        ("thanks.html", f"{SITE}/about/contact.html", f"{SITE}/about/thanks.html"),
        (f"{EVIL_SITE}/phish", None, ENDPOINT_THANKS),
        (f"{EVIL_SITE}/phish", f"{SITE}/contact.html", ENDPOINT_THANKS),
        ("/thanks.html", f"{EVIL_SITE}/contact.html", ENDPOINT_THANKS),
        ("//evil.example/phish", f"{SITE}/contact.html", ENDPOINT_THANKS),
        ("https://site.example.evil.example/", None, ENDPOINT_THANKS),
        ("https://site.example@evil.example/", None, ENDPOINT_THANKS),
        ("https://site.example:8443/thanks.html", None, ENDPOINT_THANKS),
        ("javascript:alert(1)", f"{SITE}/contact.html", ENDPOINT_THANKS),
        ("/thanks.html", None, ENDPOINT_THANKS),
    ],
)
def test_next_leads_only_to_the_forms_websites(
    app, client, endpoint, next_value, referrer, location
):
    headers = {"Referer": referrer} if referrer else {}
    response = client.post(ENDPOINT, data={"name": "Ann", "_next": next_value}, headers=headers)
    assert response.status_code == 303
    assert response.headers["Location"] == location
    assert len(fetch_submissions(app, endpoint)) == 1


@pytest.mark.parametrize(
    ("next_value", "next_url"),
    [
        (None, f"http://localhost{ENDPOINT_THANKS}"),
        (f"{SITE}/thanks.html", f"{SITE}/thanks.html"),
        (f"{EVIL_SITE}/x", f"http://localhost{ENDPOINT_THANKS}"),
    ],
)
def test_json_client_gets_ok_and_where_to_go(app, client, endpoint, next_value, next_url):
    body = {"name": "Ann", **({"_next": next_value} if next_value else {})}
    response = client.post(ENDPOINT, json=body, headers=JSON)
    assert response.status_code == 200
    assert response.json == {"ok": True, "next": next_url}


def test_script_asking_with_x_requested_with_gets_json(client, endpoint):
    headers = {"X-Requested-With": "XMLHttpRequest"}
    response = client.post(ENDPOINT, data={"name": "Ann"}, headers=headers)
    assert response.status_code == 200
    # Formspree's clients take success from a string "next": where a person would go now.
    assert response.json == {"ok": True, "next": "http://localhost/f/site-contact/thanks"}


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "{not json"])
def test_json_body_that_is_not_an_object_is_refused(app, client, endpoint, body):
    response = client.post(ENDPOINT, data=body, content_type="application/json", headers=JSON)
    assert response.status_code == 422
    assert response.json["errors"][0]["code"] == "INVALID_JSON"
    assert fetch_submissions(app, endpoint) == []


@pytest.mark.parametrize("as_json", [False, True], ids=["page", "json"])
def test_accepted_post_does_not_ask_the_browser_to_wait(client, endpoint, as_json):
    headers = JSON if as_json else {}
    response = client.post(ENDPOINT, data={"name": "Ann"}, headers=headers)
    assert response.status_code in {200, 303}
    # On a redirect, Retry-After asks the browser to wait before following it (RFC 9110).
    assert "Retry-After" not in response.headers


@pytest.mark.parametrize("path", [ENDPOINT, f"{ENDPOINT}/embed"])
def test_endpoint_has_no_page_of_its_own(client, endpoint, path):
    response = client.get(path)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST, OPTIONS"
    text = parse_page(response).find("main").text
    assert "receives form posts from websites" in text
    assert f'<form action="http://localhost{path}" method="POST">' in text


def test_endpoint_get_answers_json_clients_with_405(client, endpoint):
    response = client.get(ENDPOINT, headers=JSON)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST, OPTIONS"
    assert response.json["errors"][0]["code"] == "METHOD_NOT_ALLOWED"


def test_allowed_website_can_read_the_answer_to_its_post(app, client, endpoint):
    response = client.post(ENDPOINT, json={"name": "Ann"}, headers={"Origin": SITE, **JSON})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "Origin" in response.vary
    refused = client.post(ENDPOINT, json={"email": "nope"}, headers={"Origin": SITE, **JSON})
    assert refused.status_code == 422
    assert refused.headers["Access-Control-Allow-Origin"] == SITE


@pytest.mark.parametrize("path", [ENDPOINT, f"{ENDPOINT}/embed"])
def test_preflight_from_an_allowed_website(client, endpoint, path):
    response = client.options(
        path,
        headers={
            "Origin": SITE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


def test_preflight_for_a_built_form_from_an_allowed_website(app, client):
    slug = make_form(app, CONTACT_FIELDS, allowed_origins=[SITE]).slug
    response = client.options(
        f"/f/{slug}", headers={"Origin": SITE, "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == SITE


def test_post_from_another_website_is_refused(app, client, endpoint):
    response = client.post(ENDPOINT, data={"name": "Ann"}, headers={"Origin": EVIL_SITE, **JSON})
    assert response.status_code == 403
    assert response.json["errors"][0]["code"] == "ORIGIN_NOT_ALLOWED"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert fetch_submissions(app, endpoint) == []
    assert fetch_endpoint_keys(app, endpoint) == []


@pytest.mark.parametrize("origin", [EVIL_SITE, "null"])
def test_preflight_from_another_website_is_refused(client, endpoint, origin):
    response = client.options(
        ENDPOINT, headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers


def test_endpoint_remembers_each_field_name_once(app, client, endpoint):
    client.post(ENDPOINT, data={"name": "Ann", "email": "ann@example.com", "_subject": "Hi"})
    client.post(ENDPOINT, data={"name": "Bea", "phone": "0123456789"})
    client.post(ENDPOINT, data={"name": "Cy", "attachment": png_upload("map.png")})
    assert fetch_endpoint_keys(app, endpoint) == [
        "_subject", "attachment", "email", "name", "phone",
    ]  # fmt: skip
    assert len(fetch_submissions(app, endpoint)) == 3


def test_endpoint_thanks_page_offers_no_form_to_fill_again(client, endpoint):
    response = client.post(ENDPOINT, data={"name": "Ann"})
    page = parse_page(client.get(response.headers["Location"]))
    assert page.find("h1").text == "Thank you"
    assert page.find("a", href=ENDPOINT) is None


def test_closed_endpoint_takes_no_posts(app, client, endpoint):
    change_settings(app, endpoint, status="closed")
    response = client.post(ENDPOINT, data={"name": "Ann"}, headers=JSON)
    assert response.status_code == 403
    assert response.json["errors"][0]["code"] == "INACTIVE"
    assert fetch_submissions(app, endpoint) == []
