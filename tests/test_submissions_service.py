"""The submission service without HTTP: availability, origins, limits and where ``_next`` leads."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from werkzeug.datastructures import MultiDict

from app.caching import clear_process_caches
from app.exceptions import FormUnavailable
from app.exceptions import OriginNotAllowed
from app.exceptions import SubmissionInvalid
from app.models import Availability
from app.models import Form
from app.services import forms
from app.services.submissions import SubmissionContext
from app.services.submissions import check_can_submit
from app.services.submissions import resolve_next
from app.services.submissions import submit
from tests.form_helpers import make_endpoint
from tests.form_helpers import make_form
from tests.form_helpers import trash
from tests.public_helpers import CONTACT_ANSWERS
from tests.public_helpers import CONTACT_FIELDS
from tests.public_helpers import EVIL_SITE
from tests.public_helpers import SITE
from tests.public_helpers import fetch_form
from tests.public_helpers import fetch_submissions

SAME_SITE = SubmissionContext()
NO_FILES = MultiDict()


@pytest.fixture(autouse=True)
def _fresh_page_caches():
    clear_process_caches()


def submit_to(slug: str, answers: dict, context: SubmissionContext = SAME_SITE):
    """Submit ``answers`` to the form ``slug``; call inside an app context."""
    return submit(forms.get_form_by_slug(slug), MultiDict(answers), NO_FILES, context)


# --- limits ----------------------------------------------------------------------------------


def test_second_submission_to_a_form_taking_one_is_refused_as_full(app):
    slug = make_form(app, CONTACT_FIELDS, max_responses=1).slug
    with app.app_context():
        submit_to(slug, CONTACT_ANSWERS)
        with pytest.raises(FormUnavailable) as refused:
            submit_to(slug, {**CONTACT_ANSWERS, "name": "Bea"})
    assert refused.value.availability == Availability.FULL
    assert refused.value.status == 403
    assert refused.value.code == "INACTIVE"
    assert fetch_form(app, slug).submission_count == 1
    assert [row.answers["name"] for row in fetch_submissions(app, slug)] == ["Ann"]


def test_two_submissions_racing_for_the_last_place_store_one(app):
    """Both requests saw the form open; the count itself refuses the second."""
    slug = make_form(app, CONTACT_FIELDS, max_responses=1).slug
    with app.app_context():
        late = forms.get_form_by_slug(slug)
        assert late.availability() == Availability.OPEN
        with app.app_context():  # another request, with its own session, wins the race
            submit_to(slug, CONTACT_ANSWERS)
        assert late.availability() == Availability.OPEN  # what the late request still sees
        with pytest.raises(FormUnavailable) as refused:
            submit(late, MultiDict({**CONTACT_ANSWERS, "name": "Bea"}), NO_FILES, SAME_SITE)
    assert refused.value.availability == Availability.FULL
    assert fetch_form(app, slug).submission_count == 1
    assert [row.answers["name"] for row in fetch_submissions(app, slug)] == ["Ann"]


def test_submission_counts_and_returns_where_to_go(app):
    slug = make_form(app, CONTACT_FIELDS, redirect_url="https://example.org/merci").slug
    with app.app_context():
        accepted = submit_to(slug, CONTACT_ANSWERS)
    assert accepted.next_url == "https://example.org/merci"
    assert accepted.duplicate is False
    assert accepted.spam is False
    [row] = fetch_submissions(app, slug)
    assert row.id == accepted.submission_id
    assert fetch_form(app, slug).submission_count == 1


def test_same_idempotency_key_returns_the_first_submission(app):
    slug = make_form(app, CONTACT_FIELDS).slug
    context = SubmissionContext(idempotency_key="retry-7")
    with app.app_context():
        first = submit_to(slug, CONTACT_ANSWERS, context)
        again = submit_to(slug, {**CONTACT_ANSWERS, "name": "Changed"}, context)
    assert again.duplicate is True
    assert again.submission_id == first.submission_id
    assert [row.answers["name"] for row in fetch_submissions(app, slug)] == ["Ann"]
    assert fetch_form(app, slug).submission_count == 1


def test_invalid_answers_raise_with_a_code_per_field(app):
    slug = make_form(app, CONTACT_FIELDS).slug
    with app.app_context(), pytest.raises(SubmissionInvalid) as refused:
        submit_to(slug, {"name": "", "email": "nope"})
    assert [(error.key, error.code) for error in refused.value.errors] == [
        ("name", "REQUIRED_FIELD_MISSING"),
        ("email", "TYPE_EMAIL"),
    ]
    assert refused.value.form is not None
    assert fetch_submissions(app, slug) == []


def test_honeypot_submission_is_stored_as_spam_without_counting(app):
    slug = make_form(app, CONTACT_FIELDS, max_responses=1).slug
    with app.app_context():
        accepted = submit_to(slug, {**CONTACT_ANSWERS, "_gotcha": "buy now"})
    assert accepted.spam is True
    [row] = fetch_submissions(app, slug)
    assert (row.is_spam, row.spam_reason) == (True, "honeypot")
    form = fetch_form(app, slug)
    assert form.submission_count == 0
    assert form.availability() == Availability.OPEN


# --- who may submit --------------------------------------------------------------------------


def make_in_state(app, state: str) -> str:
    if state == "draft":
        return make_form(app, CONTACT_FIELDS, publish=False).slug
    if state == "closed":
        return make_form(app, CONTACT_FIELDS, status="closed").slug
    if state == "expired":
        return make_form(
            app, CONTACT_FIELDS, closes_at=datetime.now(UTC) - timedelta(seconds=1)
        ).slug
    if state == "full":
        slug = make_form(app, CONTACT_FIELDS, max_responses=1).slug
        with app.app_context():
            submit_to(slug, CONTACT_ANSWERS)
        return slug
    if state == "deleted":
        slug = make_form(app, CONTACT_FIELDS).slug
        trash(app, slug)
        return slug
    if state == "endpoint":
        return make_endpoint(app)
    if state == "draft-endpoint":
        with app.app_context():
            return forms.create_form(None, title="Draft endpoint", kind="endpoint").slug
    return make_form(app, CONTACT_FIELDS).slug


@pytest.mark.parametrize(
    ("state", "availability", "status", "code"),
    [
        ("draft", Availability.DRAFT, 404, "FORM_NOT_FOUND"),
        ("draft-endpoint", Availability.DRAFT, 404, "FORM_NOT_FOUND"),
        ("deleted", Availability.DELETED, 404, "FORM_NOT_FOUND"),
        ("closed", Availability.CLOSED, 403, "INACTIVE"),
        ("expired", Availability.EXPIRED, 403, "INACTIVE"),
        ("full", Availability.FULL, 403, "INACTIVE"),
    ],
)
def test_check_can_submit_refuses_a_form_that_is_not_open(app, state, availability, status, code):
    slug = make_in_state(app, state)
    with app.app_context():
        form = forms.get_form_by_slug(slug)
        assert form.availability() == availability
        with pytest.raises(FormUnavailable) as refused:
            check_can_submit(form, SAME_SITE)
    assert refused.value.availability == availability
    assert (refused.value.status, refused.value.code) == (status, code)


@pytest.mark.parametrize("state", ["open", "endpoint"])
def test_check_can_submit_lets_an_open_form_through(app, state):
    slug = make_in_state(app, state)
    with app.app_context():
        form = forms.get_form_by_slug(slug)
        assert form.availability() == Availability.OPEN
        check_can_submit(form, SAME_SITE)


@pytest.mark.parametrize(
    ("origin", "same_site", "allowed"),
    [
        (None, True, True),
        (SITE, False, True),
        (f"{SITE}/", False, True),
        ("HTTPS://SITE.EXAMPLE", False, True),
        (EVIL_SITE, False, False),
        ("null", False, False),
        ("http://site.example", False, False),
        ("http://localhost", True, True),
    ],
)
def test_check_can_submit_takes_cross_site_posts_from_allowed_origins_only(
    app, origin, same_site, allowed
):
    slug = make_form(app, CONTACT_FIELDS, allowed_origins=[SITE]).slug
    context = SubmissionContext(origin=origin, same_site=same_site)
    with app.app_context():
        form = forms.get_form_by_slug(slug)
        if allowed:
            check_can_submit(form, context)
        else:
            with pytest.raises(OriginNotAllowed) as refused:
                check_can_submit(form, context)
            assert refused.value.status == 403
            assert refused.value.code == "ORIGIN_NOT_ALLOWED"


def test_refused_origin_stores_nothing(app):
    slug = make_endpoint(app, allowed_origins=[SITE])
    context = SubmissionContext(origin=EVIL_SITE, same_site=False)
    with app.app_context(), pytest.raises(OriginNotAllowed):
        submit_to(slug, {"name": "Ann"}, context)
    assert fetch_submissions(app, slug) == []
    assert fetch_form(app, slug).submission_count == 0


# --- where _next leads -----------------------------------------------------------------------

OWN = "http://127.0.0.1:5000"


@pytest.mark.parametrize(
    ("next_value", "referrer", "expected"),
    [
        (None, f"{SITE}/contact.html", None),
        ("", f"{SITE}/contact.html", None),
        (f"{SITE}/thanks.html", None, f"{SITE}/thanks.html"),
        (f"{SITE}/thanks.html", f"{EVIL_SITE}/", f"{SITE}/thanks.html"),
        ("https://SITE.example/thanks.html", None, "https://SITE.example/thanks.html"),
        ("/thanks.html", f"{SITE}/contact.html", f"{SITE}/thanks.html"),
        ("thanks.html", f"{SITE}/a/contact.html", f"{SITE}/a/thanks.html"),
        ("../thanks.html", f"{SITE}/a/b/contact.html", f"{SITE}/a/thanks.html"),
        ("?sent=1", f"{SITE}/contact.html", f"{SITE}/contact.html?sent=1"),
        (f"{OWN}/done", None, f"{OWN}/done"),
        ("/thanks.html", None, None),
        ("/thanks.html", f"{EVIL_SITE}/contact.html", None),
        (f"{EVIL_SITE}/", None, None),
        (f"{EVIL_SITE}/", f"{SITE}/contact.html", None),
        ("//evil.example/x", f"{SITE}/contact.html", None),
        ("https://site.example.evil.example/", None, None),
        ("https://site.example@evil.example/", None, None),
        ("https://site.example:444/", None, None),
        ("http://site.example/thanks.html", None, None),
        ("javascript:alert(1)", f"{SITE}/contact.html", None),
        ("data:text/html,hi", None, None),
        ("ftp://site.example/x", None, None),
    ],
)
def test_resolve_next(app, next_value, referrer, expected):
    app.config["BASE_URL"] = OWN
    form = Form(allowed_origins=[SITE])
    with app.app_context():
        assert resolve_next(form, next_value, referrer) == expected


def test_resolve_next_knows_this_sites_own_address(app):
    app.config["BASE_URL"] = "https://forms.example"
    form = Form(allowed_origins=[])
    with app.app_context():
        assert resolve_next(form, "https://forms.example/f/x/thanks", None) == (
            "https://forms.example/f/x/thanks"
        )
        assert resolve_next(form, f"{OWN}/done", None) is None
