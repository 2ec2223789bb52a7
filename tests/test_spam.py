"""Spam protection: each signal and its weight, the form's threshold, the Spam folder and what
it never sends, static-site posts without a token, and proof of work (ALTCHA)."""

from __future__ import annotations

import html
import time
from types import SimpleNamespace

import altcha
import pytest

from app.models import Role
from app.services import forms
from app.services.spam import WEIGHTS
from app.services.spam import RequestSignals
from app.services.spam import Signal
from app.services.spam import TokenState
from app.services.spam import content_signals
from app.services.spam import judge_spam
from app.services.spam import request_signals_of
from tests.auth_helpers import csrf_token_from
from tests.delivery_helpers import add_webhook
from tests.delivery_helpers import all_deliveries
from tests.delivery_helpers import set_recipients
from tests.form_helpers import change_settings
from tests.form_helpers import make_endpoint
from tests.form_helpers import make_form
from tests.public_helpers import CONTACT_ANSWERS
from tests.public_helpers import CONTACT_FIELDS
from tests.public_helpers import fetch_submissions
from tests.public_helpers import page_token

JSON = {"Accept": "application/json"}
SPAMMY = {**CONTACT_ANSWERS, "message": "Cheap SEO services, buy now!"}
LINKS = "See https://a.example, https://b.example and www.c.example"


@pytest.fixture
def contact(app):
    return make_form(app, CONTACT_FIELDS)


@pytest.fixture
def seconds_later(monkeypatch):
    """``seconds_later(n)``: posts from now on arrive ``n`` seconds after their page."""

    def shift(seconds: float) -> None:
        clock = SimpleNamespace(time=lambda: time.time() + seconds)
        monkeypatch.setattr("app.public.pages.time", clock)

    return shift


def _notify_and_hook(app, form_id: int) -> None:
    """An email notification and a webhook (to a loopback address nothing answers)."""
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    set_recipients(app, form_id, "editor@example.com")
    add_webhook(app, form_id, "http://127.0.0.1:9/in")


def _post_after(client, slug: str, answers: dict, seconds_later, seconds: float, **kwargs):
    token = page_token(client.get(f"/f/{slug}"))
    seconds_later(seconds)
    return client.post(f"/f/{slug}", data={**answers, "_token": token}, **kwargs)


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        (RequestSignals(token=TokenState.VALID, page_age_seconds=10), []),
        (RequestSignals(token=TokenState.VALID, page_age_seconds=1.5), [Signal.TOO_FAST]),
        (RequestSignals(token=TokenState.VALID, page_age_seconds=2 * 86400), [Signal.TOO_OLD]),
        (RequestSignals(token=TokenState.MISSING), [Signal.NO_TOKEN]),
        (RequestSignals(token=TokenState.INVALID), [Signal.BAD_TOKEN]),
        (RequestSignals(posts_left=1), [Signal.NEAR_RATE_LIMIT]),
        (RequestSignals(posts_left=8), []),
        (RequestSignals(proof_of_work_missing=True), [Signal.NO_PROOF_OF_WORK]),
        (RequestSignals(), []),  # a static-site post: no token to miss
    ],
)
def test_each_request_signal(signals, expected):
    assert request_signals_of(signals) == expected


@pytest.mark.parametrize(
    ("texts", "wording", "expected"),
    [
        (["Hello, I would like a quote."], "Contact us Name Message", []),
        ([LINKS], "Contact us", [Signal.MANY_LINKS]),
        (["one link https://a.example"], "Contact us", []),
        (["Rank your website on the first page of Google"], "Contact", [Signal.SPAM_PHRASES]),
        (["Привет, купите наши услуги"], "Contact us Name Message", [Signal.UNEXPECTED_SCRIPT]),
        (["这是一个很好的机会"], "Contact us Name Message", [Signal.UNEXPECTED_SCRIPT]),
        (["Привет"], "Связаться с нами Имя", []),  # noqa: RUF001 (a Cyrillic form expects it)
        (["Ann Müller, café"], "Contact us", []),  # accents are Latin
        (["Ann"], "Связаться с нами", []),  # noqa: RUF001 (Latin names are expected anywhere)
    ],
)
def test_each_content_signal(texts, wording, expected):
    assert content_signals(texts, wording) == expected


def test_the_score_is_the_sum_of_the_weights_and_spam_from_the_threshold():
    verdict = judge_spam([Signal.TOO_FAST, Signal.NO_PROOF_OF_WORK], threshold=49)
    assert verdict.score == WEIGHTS[Signal.TOO_FAST] + WEIGHTS[Signal.NO_PROOF_OF_WORK] == 50
    assert verdict.is_spam
    assert [reason["code"] for reason in verdict.reasons] == ["too_fast", "no_proof_of_work"]
    # Spam only above the threshold: a person without JavaScript who is quick is not.
    assert not judge_spam([Signal.TOO_FAST, Signal.NO_PROOF_OF_WORK], threshold=50).is_spam
    assert not judge_spam([], threshold=1).is_spam
    assert judge_spam([], threshold=1000, honeypot=True).is_spam


def test_a_person_paced_post_is_not_spam_and_scores_nothing(app, client, contact, seconds_later):
    response = _post_after(client, contact.slug, CONTACT_ANSWERS, seconds_later, 20)
    assert response.status_code == 303
    [row] = fetch_submissions(app, contact.slug)
    assert (row.is_spam, row.spam_score) == (False, WEIGHTS[Signal.NO_PROOF_OF_WORK])
    assert [reason["code"] for reason in row.spam_reasons] == ["no_proof_of_work"]


def test_above_the_threshold_it_goes_to_spam_with_its_reasons_and_sends_nothing(
    app, client, contact, signed_in
):
    _notify_and_hook(app, contact.id)
    response = client.post(f"/f/{contact.slug}", data=SPAMMY)  # no token, spam phrases
    assert response.status_code == 303  # a bot is told nothing
    [row] = fetch_submissions(app, contact.slug)
    assert row.is_spam and row.spam_reason == "score"
    assert row.spam_score == 25 + 30 + 10
    codes = {reason["code"] for reason in row.spam_reasons}
    assert codes == {"no_token", "spam_phrases", "no_proof_of_work"}
    assert all_deliveries(app) == []

    editor = signed_in(Role.OWNER)
    page = editor.get(f"/forms/{contact.id}/submissions/{row.id}").get_data(as_text=True)
    assert "Spam score: 65 (Spam from 50)" in page
    assert "Uses phrases common in spam: +30" in page
    assert "Sent without the token the form&#39;s page carries: +25" in page
    listing = editor.get(f"/forms/{contact.id}/submissions?folder=spam").get_data(as_text=True)
    assert "score 65" in listing and "Uses phrases common in spam" in listing
    assert "Spam score: 65" not in editor.get(f"/forms/{contact.id}/submissions").get_data(
        as_text=True
    )


def test_below_the_threshold_it_is_an_ordinary_submission(app, client, contact):
    _notify_and_hook(app, contact.id)
    response = client.post(f"/f/{contact.slug}", data=CONTACT_ANSWERS)  # no token nor work
    assert response.status_code == 303
    [row] = fetch_submissions(app, contact.slug)
    assert (row.is_spam, row.spam_reason, row.spam_score) == (False, None, 25 + 10)
    assert len(all_deliveries(app)) == 2  # the email and the webhook


def test_the_editor_sets_the_threshold(app, client, contact, seconds_later):
    change_settings(app, contact.slug, spam_threshold=49)
    _post_after(client, contact.slug, CONTACT_ANSWERS, seconds_later, 1)
    [row] = fetch_submissions(app, contact.slug)
    assert row.is_spam and row.spam_score == 50
    assert [reason["code"] for reason in row.spam_reasons] == ["too_fast", "no_proof_of_work"]


def test_a_forged_token_counts_against_the_post(app, client, contact):
    client.post(f"/f/{contact.slug}", data={**SPAMMY, "_token": "abc.123.forged"})
    [row] = fetch_submissions(app, contact.slug)
    assert row.is_spam and "bad_token" in {reason["code"] for reason in row.spam_reasons}


def test_the_threshold_is_a_setting_of_the_builder_and_the_api(app, contact, signed_in):
    editor = signed_in(Role.OWNER)
    page = editor.get(f"/forms/{contact.id}/settings")
    assert "Spam score that sends a response to Spam" in page.get_data(as_text=True)
    assert "Require proof of work" in page.get_data(as_text=True)
    refused = editor.post(
        f"/forms/{contact.id}/settings",
        data={
            "csrf_token": csrf_token_from(page),
            "status": "open",
            "submit_label": "Send",
            "resume_days": "30",
            "spam_threshold": "0",
        },
    )
    assert refused.status_code == 422
    assert "Use a spam score from 1 to 1000." in refused.get_data(as_text=True)


def test_a_static_site_post_without_a_token_is_taken_and_scored_on_what_it_carries(app, client):
    slug = make_endpoint(app, slug="site")
    plain = client.post(f"/f/{slug}", data={"name": "Ann", "message": "Hi"}, headers=JSON)
    assert plain.status_code == 200
    spammy = client.post(
        f"/f/{slug}", data={"name": "Bot", "message": f"Buy now! {LINKS}"}, headers=JSON
    )
    assert spammy.status_code == 200  # never refused for lacking a token
    first, second = sorted(fetch_submissions(app, slug), key=lambda row: row.id)
    assert (first.is_spam, first.spam_score) == (False, 10)  # no proof of work
    assert second.is_spam and {reason["code"] for reason in second.spam_reasons} == {
        "many_links",
        "spam_phrases",
        "no_proof_of_work",
    }


def test_the_honeypot_is_always_spam_with_its_reason(app, client, contact):
    change_settings(app, contact.slug, spam_threshold=1000)
    client.post(f"/f/{contact.slug}", data={**CONTACT_ANSWERS, "_gotcha": "x"})
    [row] = fetch_submissions(app, contact.slug)
    assert row.is_spam and row.spam_reason == "honeypot"
    assert "honeypot" in {reason["code"] for reason in row.spam_reasons}


def test_not_spam_rescues_a_scored_submission(app, client, contact, signed_in):
    set_recipients(app, contact.id, "editor@example.com")
    client.post(f"/f/{contact.slug}", data=SPAMMY)
    [row] = fetch_submissions(app, contact.slug)
    editor = signed_in(Role.OWNER)
    page = editor.get(f"/forms/{contact.id}/submissions/{row.id}")
    editor.post(
        f"/forms/{contact.id}/submissions/{row.id}/not_spam",
        data={"csrf_token": csrf_token_from(page)},
    )
    [rescued] = fetch_submissions(app, contact.slug)
    assert not rescued.is_spam
    assert len(all_deliveries(app)) == 1  # sent now, as a new one would be


# --- proof of work (ALTCHA) --------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _easy_work(monkeypatch):
    """Challenges of 4 zero bits rather than 12, so solving them in Python takes no time: the
    checks are the same whatever the difficulty."""
    monkeypatch.setattr("app.services.spam.proof_of_work.KEY_PREFIX", "0")


def _solved(client, slug: str) -> str:
    """The widget's work, done here: fetch the form's challenge, solve it, and encode it."""
    challenge = altcha.Challenge.from_dict(client.get(f"/f/{slug}/challenge").json)
    solution = altcha.solve_challenge(challenge)
    return altcha.Payload(challenge, solution).to_base64()


def test_a_solved_challenge_counts_for_the_post(app, client, contact, seconds_later):
    payload = _solved(client, contact.slug)
    response = _post_after(
        client, contact.slug, {**CONTACT_ANSWERS, "altcha": payload}, seconds_later, 20
    )
    assert response.status_code == 303
    [row] = fetch_submissions(app, contact.slug)
    assert (row.is_spam, row.spam_score, row.spam_reasons) == (False, 0, [])
    assert "altcha" not in row.answers


def test_a_replayed_solution_is_refused(app, client, contact):
    payload = _solved(client, contact.slug)
    first = client.post(f"/f/{contact.slug}", data={**CONTACT_ANSWERS, "altcha": payload})
    assert first.status_code == 303
    again = {**CONTACT_ANSWERS, "message": "Another", "altcha": payload}
    replayed = client.post(f"/f/{contact.slug}", data=again, headers=JSON)
    assert replayed.status_code == 422
    assert replayed.json["errors"][0]["code"] == "CAPTCHA_INVALID"
    page = client.post(f"/f/{contact.slug}", data=again)
    assert page.status_code == 422
    assert "expired or was used already" in page.get_data(as_text=True)
    assert len(fetch_submissions(app, contact.slug)) == 1


def test_an_expired_challenge_is_refused(app, client, contact, monkeypatch):
    past = SimpleNamespace(time=lambda: time.time() - 3 * 3600)
    monkeypatch.setattr("app.services.spam.proof_of_work.time", past)
    payload = _solved(client, contact.slug)
    monkeypatch.undo()
    response = client.post(
        f"/f/{contact.slug}", data={**CONTACT_ANSWERS, "altcha": payload}, headers=JSON
    )
    assert response.status_code == 422
    assert response.json["errors"][0]["code"] == "CAPTCHA_INVALID"
    assert fetch_submissions(app, contact.slug) == []


def test_another_forms_solution_is_refused(app, client, contact):
    other = make_form(app, CONTACT_FIELDS, slug="other")
    payload = _solved(client, other.slug)
    response = client.post(
        f"/f/{contact.slug}", data={**CONTACT_ANSWERS, "altcha": payload}, headers=JSON
    )
    assert response.status_code == 422
    assert fetch_submissions(app, contact.slug) == []


def test_a_forged_solution_is_refused(app, client, contact):
    response = client.post(
        f"/f/{contact.slug}",
        data={**CONTACT_ANSWERS, "altcha": "bm90IGEgc29sdXRpb24="},
        headers=JSON,
    )
    assert response.status_code == 422
    assert response.json["errors"][0]["code"] == "CAPTCHA_INVALID"


def test_without_javascript_a_missing_solution_only_adds_to_the_score(
    app, client, contact, seconds_later
):
    _post_after(client, contact.slug, CONTACT_ANSWERS, seconds_later, 20)
    [row] = fetch_submissions(app, contact.slug)
    assert not row.is_spam
    assert [reason["code"] for reason in row.spam_reasons] == ["no_proof_of_work"]


def test_required_proof_of_work_explains_itself_to_a_respondent_without_javascript(
    app, client, contact
):
    change_settings(app, contact.slug, require_proof_of_work=True)
    form_page = client.get(f"/f/{contact.slug}").get_data(as_text=True)
    assert "<noscript>" in form_page and "This form needs JavaScript" in form_page
    refused = client.post(f"/f/{contact.slug}", data=CONTACT_ANSWERS)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "The puzzle needs JavaScript" in text and "your answers were not stored" in text
    as_json = client.post(f"/f/{contact.slug}", data=CONTACT_ANSWERS, headers=JSON)
    assert as_json.json["errors"][0]["code"] == "CAPTCHA_REQUIRED"
    assert fetch_submissions(app, contact.slug) == []
    client.post(
        f"/f/{contact.slug}", data={**CONTACT_ANSWERS, "altcha": _solved(client, "contact")}
    )
    assert len(fetch_submissions(app, contact.slug)) == 1


def test_the_challenge_endpoint_answers_the_forms_websites(app, client):
    slug = make_endpoint(app, slug="site", allowed_origins=["https://www.example.org"])
    response = client.get(f"/f/{slug}/challenge", headers={"Origin": "https://www.example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://www.example.org"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json["parameters"]["algorithm"] == "PBKDF2/SHA-256"
    other = client.get(f"/f/{slug}/challenge", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_the_share_page_shows_the_widget_for_a_static_site(app, signed_in):
    slug = make_endpoint(app, slug="site")
    with app.app_context():
        form_id = forms.get_form_by_slug(slug).id
    base = app.config["BASE_URL"]
    page = html.unescape(
        signed_in(Role.OWNER).get(f"/forms/{form_id}/share").get_data(as_text=True)
    )
    assert "Add proof of work to a static site's form" in page
    assert f'<script src="{base}/static/vendor/altcha/altcha.site.min.js" async></script>' in page
    assert f'<altcha-widget challenge="{base}/f/{slug}/challenge" name="altcha"' in page
