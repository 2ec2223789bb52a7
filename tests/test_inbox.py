"""The inbox: keyset pages, filters with search, rights per role, triage, trash and purge."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.caching import clear_process_caches
from app.extensions import db
from app.models import Form
from app.models import FormViewCount
from app.models import Role
from app.models import Submission
from app.services import forms
from app.services.forms.view_counts import flush_views
from app.services.inbox import rollups
from app.services.submissions import storage
from app.signals import submission_accepted
from tests.auth_helpers import csrf_token_from

NOW = datetime.now(UTC).replace(microsecond=0)
SIZES = [
    {"value": "s", "label": "Small"},
    {"value": "m", "label": "Medium"},
    {"value": "l", "label": "Large"},
]
SURVEY_FIELDS: list[dict[str, Any]] = [
    {"key": "name", "type": "short_text", "label": "Your name", "required": True},
    {"key": "size", "type": "single_choice", "label": "T-shirt size", "rules": {"choices": SIZES}},
    {
        "key": "topics",
        "type": "multiple_choice",
        "label": "Topics",
        "rules": {"choices": ["art", "books", "cinema"]},
    },
    {"key": "stars", "type": "rating", "label": "How was it?"},
    {"key": "nps", "type": "rating", "label": "Recommend us?", "rules": {"scale": "nps"}},
    {"key": "age", "type": "number", "label": "Age", "rules": {"kind": "integer"}},
    {"key": "agree", "type": "consent", "label": "I agree"},
    {"key": "message", "type": "long_text", "label": "Message"},
    {"key": "cv", "type": "file", "label": "CV"},
]


# --- helpers shared by the inbox, export and summary tests ----------------------------------


def make_survey(app, fields: list[dict[str, Any]] | None = None, slug: str = "survey") -> int:
    """A published form with the survey's fields; its id."""
    with app.app_context():
        form = forms.create_form(None, title="Survey", slug=slug)
        forms.save_fields(form, fields or SURVEY_FIELDS)
        forms.publish(form, None)
        return form.id


def add_submission(
    app,
    form_id: int,
    answers: dict[str, Any],
    *,
    minutes_ago: float = 0,
    at: datetime | None = None,
    **flags: Any,
) -> int:
    """Store a submission as the public page would, at a chosen time; its id."""
    with app.app_context():
        form = db.session.get(Form, form_id)
        submission = Submission(
            form_id=form_id,
            version_id=form.published_version_id,
            answers=answers,
            meta=flags.pop("meta", {}),
            created_at=at or NOW - timedelta(minutes=minutes_ago),
            **flags,
        )
        db.session.add(submission)
        db.session.flush()
        if not submission.is_spam:
            form.submission_count += 1
            # What the summary counts, as the submission_accepted receiver counts it.
            rollups.count_submissions(
                form_id, [submission] if rollups.is_counted(submission) else [], 1
            )
        db.session.commit()
        return submission.id


def listed_ids(response, form_id: int) -> list[int]:
    """The submissions a list page shows, top to bottom."""
    html = response.get_data(as_text=True)
    found = re.findall(rf'href="/forms/{form_id}/submissions/(\d+)[?"]', html)
    return [int(value) for value in dict.fromkeys(found)]


def link(response, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)" rel="{rel}"', response.get_data(as_text=True))
    return match.group(1).replace("&amp;", "&") if match else None


def stored(app, submission_id: int) -> Submission:
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        db.session.expunge(submission)
        return submission


def csrf(client) -> str:
    return csrf_token_from(client.get("/account", follow_redirects=True))


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test's database starts empty, so version ids repeat: forget fields cached by id."""
    clear_process_caches()


@pytest.fixture
def survey(app, owner) -> int:
    return make_survey(app)


# --- pages -------------------------------------------------------------------------------------


def test_pages_are_newest_first_and_follow_cursors_both_ways(app, survey, signed_in):
    editor = signed_in(Role.EDITOR)
    ids = [add_submission(app, survey, {"name": f"P{n}"}, minutes_ago=200 - n) for n in range(120)]
    newest_first = ids[::-1]

    first = editor.get(f"/forms/{survey}/submissions")
    assert first.status_code == 200
    assert listed_ids(first, survey) == newest_first[:50]
    assert link(first, "prev") is None

    second = editor.get(link(first, "next"))
    assert listed_ids(second, survey) == newest_first[50:100]
    third = editor.get(link(second, "next"))
    assert listed_ids(third, survey) == newest_first[100:]
    assert link(third, "next") is None

    back = editor.get(link(third, "prev"))
    assert listed_ids(back, survey) == newest_first[50:100]
    assert listed_ids(editor.get(link(back, "prev")), survey) == newest_first[:50]


def test_pages_stay_correct_while_submissions_arrive(app, survey, signed_in):
    editor = signed_in(Role.EDITOR)
    ids = [add_submission(app, survey, {"name": f"P{n}"}, minutes_ago=200 - n) for n in range(80)]
    first = editor.get(f"/forms/{survey}/submissions")
    # Five arrive while the first page is read, one in the very same second as the newest.
    arrived = [add_submission(app, survey, {"name": "new"}, minutes_ago=-n) for n in range(4)]
    arrived.append(add_submission(app, survey, {"name": "tie"}, at=stored(app, ids[-1]).created_at))

    second = editor.get(link(first, "next"))
    assert listed_ids(second, survey) == ids[::-1][50:]
    top = listed_ids(editor.get(f"/forms/{survey}/submissions"), survey)
    assert set(arrived) <= set(top[:6])


def test_a_garbled_cursor_shows_the_first_page(app, survey, signed_in):
    editor = signed_in(Role.EDITOR)
    newest = add_submission(app, survey, {"name": "Ann"})
    response = editor.get(f"/forms/{survey}/submissions?after=x.y")
    assert listed_ids(response, survey) == [newest]


# --- filters and search --------------------------------------------------------------------------


@pytest.fixture
def varied(app, survey) -> dict[str, int]:
    """Submissions that differ in one way each, by name."""
    rows = {
        "lisbon": ({"name": "Ana", "size": "s", "message": "Greetings from Lisbon"}, {}),
        "porto": ({"name": "Rui", "size": "m", "topics": ["art", "books"]}, {"is_read": True}),
        "starred": ({"name": "Sam", "size": "l", "message": "lisbon again"}, {"is_starred": True}),
        "spam": ({"name": "Bot", "message": "Lisbon pills"}, {"is_spam": True}),
        "trashed": ({"name": "Old", "message": "Lisbon"}, {"deleted_at": NOW}),
        "march": (
            {"name": "Mar", "topics": ["books"]},
            {"at": datetime(2025, 3, 10, 12, tzinfo=UTC)},
        ),
    }
    ids = {}
    for minutes, (name, (answers, flags)) in enumerate(rows.items()):
        flags = dict(flags)
        if "at" not in flags:
            flags["minutes_ago"] = minutes
        ids[name] = add_submission(app, survey, answers, **flags)
    return ids


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["lisbon", "porto", "starred", "march"]),
        ("read=unread", ["lisbon", "starred", "march"]),
        ("read=read", ["porto"]),
        ("starred=1", ["starred"]),
        ("folder=spam", ["spam"]),
        ("folder=trash", ["trashed"]),
        ("from=2025-03-01&to=2025-03-31", ["march"]),
        ("to=2025-03-09", []),
        ("f.size=s", ["lisbon"]),
        ("f.size=s&f.size=l", ["lisbon", "starred"]),
        ("f.topics=books", ["porto", "march"]),
        ("f.topics=books&f.size=m", ["porto"]),
        ("q=lisbon", ["lisbon", "starred"]),
        ("q=LISB", ["lisbon", "starred"]),
        ("q=greetings+lisbon", ["lisbon"]),
        ("q=lisbon&starred=1", ["starred"]),
        ("q=lisbon&f.size=s", ["lisbon"]),
        ("q=lisbon&read=unread&f.size=l", ["starred"]),
        ("q=lisbon&folder=spam", ["spam"]),
        ("q=lisbon&folder=trash", ["trashed"]),
        ("q=nowhere", []),
        ("q=%22%27%28*%29+-+%5C", ["lisbon", "porto", "starred", "march"]),
        ("q=%22ana%27%29", ["lisbon"]),
        ("f.unknown=x&f.size=nope", []),
    ],
)
def test_filters_and_search_combine(app, varied, signed_in, survey, query, expected):
    editor = signed_in(Role.EDITOR)
    response = editor.get(f"/forms/{survey}/submissions?{query}")
    assert response.status_code == 200
    assert listed_ids(response, survey) == [varied[name] for name in expected]


def test_filter_is_kept_in_links_so_a_view_can_be_shared(app, varied, signed_in, survey):
    editor = signed_in(Role.EDITOR)
    response = editor.get(f"/forms/{survey}/submissions?q=lisbon&f.size=l&cols=message")
    html = response.get_data(as_text=True)
    assert (
        f"/forms/{survey}/submissions/{varied['starred']}?q=lisbon&amp;f.size=l&amp;cols=message"
        in html
    )
    assert "format=csv&amp;q=lisbon&amp;f.size=l" in html
    assert '<th scope="col">Message</th>' in html and '<th scope="col">Your name</th>' not in html


def test_dates_are_days_in_the_users_time_zone(app, survey, signed_in):
    # 23:30 UTC on 9 March is already 10 March in Paris.
    late = add_submission(
        app, survey, {"name": "Late"}, at=datetime(2025, 3, 9, 23, 30, tzinfo=UTC)
    )
    paris = signed_in(Role.VIEWER, timezone="Europe/Paris")
    shown = paris.get(f"/forms/{survey}/submissions?from=2025-03-10&to=2025-03-10")
    assert listed_ids(shown, survey) == [late]
    assert "2025-03-10 00:30" in shown.get_data(as_text=True)


def test_search_finds_answers_of_every_kind_of_form(app, owner, signed_in):
    editor = signed_in(Role.EDITOR)
    with app.app_context():
        endpoint = forms.create_form(None, title="Site", slug="site", kind="endpoint")
        forms.publish(endpoint, None)
        endpoint_id = endpoint.id
    found = add_submission(app, endpoint_id, {"email": "zoe@example.org", "note": ["a", "Zürich"]})
    add_submission(app, endpoint_id, {"email": "max@example.org"})
    for query in ("zoe", "zürich", "zoe%40example.org"):
        response = editor.get(f"/forms/{endpoint_id}/submissions?q={query}")
        assert listed_ids(response, endpoint_id) == [found], query


# --- rights --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "reads", "changes"),
    [(Role.VIEWER, 200, 403), (Role.EDITOR, 200, 302), (Role.OWNER, 200, 302)],
)
def test_viewers_read_and_export_editors_also_change(app, survey, signed_in, role, reads, changes):
    submission_id = add_submission(app, survey, {"name": "Ann"})
    client = signed_in(role)
    for path in ("submissions", f"submissions/{submission_id}", "submissions/export", "summary"):
        assert client.get(f"/forms/{survey}/{path}").status_code == reads, path
    token = csrf(client)
    star = client.post(
        f"/forms/{survey}/submissions/{submission_id}/star", data={"csrf_token": token}
    )
    bulk = client.post(
        f"/forms/{survey}/submissions/bulk",
        data={"csrf_token": token, "action": "trash", "ids": [submission_id]},
    )
    assert (star.status_code, bulk.status_code) == (changes, changes)
    after = stored(app, submission_id)
    assert (after.is_starred, after.deleted_at is not None) == ((changes == 302),) * 2


def test_anonymous_people_are_sent_to_sign_in(client, survey):
    response = client.get(f"/forms/{survey}/submissions")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_submission_is_found_only_through_its_own_form(app, survey, signed_in):
    editor = signed_in(Role.EDITOR)
    other = make_survey(app, slug="other")
    submission_id = add_submission(app, survey, {"name": "Ann"})
    assert editor.get(f"/forms/{other}/submissions/{submission_id}").status_code == 404
    token = csrf(editor)
    response = editor.post(
        f"/forms/{other}/submissions/bulk",
        data={"csrf_token": token, "action": "star", "ids": [submission_id]},
    )
    assert response.status_code == 302
    assert stored(app, submission_id).is_starred is False
    assert editor.get(f"/forms/{survey}/submissions/{submission_id}/star").status_code == 405
    assert editor.get("/forms/999/submissions").status_code == 404


# --- one submission ------------------------------------------------------------------------------


def test_opening_a_submission_shows_it_as_asked_and_marks_it_read(app, survey, signed_in):
    with app.app_context():
        reference = storage.save_upload(
            survey,
            "cv",
            __import__("app.fields", fromlist=["UploadedFile"]).UploadedFile(
                "cv.pdf", "application/pdf", 4, b"%PDF"
            ),
        )
        db.session.commit()
    submission_id = add_submission(
        app,
        survey,
        {"name": "Ann", "size": "m", "topics": ["art", "cinema"], "cv": reference},
        at=datetime(2025, 7, 1, 10, 0, tzinfo=UTC),
        meta={"referrer": "https://site.example/join", "user_agent": "TestBrowser/1.0"},
    )
    # The field is renamed and an option dropped in a later version.
    changed = [dict(field) for field in SURVEY_FIELDS]
    changed[1] = {**changed[1], "label": "Size", "rules": {"choices": SIZES[:1]}}
    with app.app_context():
        form = db.session.get(Form, survey)
        forms.save_fields(form, changed)
        forms.publish(form, None)
    viewer = signed_in(Role.VIEWER, timezone="America/New_York")
    html = viewer.get(f"/forms/{survey}/submissions/{submission_id}").get_data(as_text=True)
    assert "<dt>T-shirt size</dt>\n    <dd>Medium</dd>" in html
    assert "art, cinema" in html
    assert f"/forms/{survey}/files/{reference['file_id']}" in html
    assert "2025-07-01 06:00" in html  # New York is UTC-4 in July
    assert "https://site.example/join" in html and "TestBrowser/1.0" in html
    assert stored(app, submission_id).is_read is True


def test_previous_and_next_stay_within_the_filter(app, survey, signed_in):
    editor = signed_in(Role.EDITOR)
    first = add_submission(app, survey, {"name": "A", "size": "s"}, minutes_ago=3)
    add_submission(app, survey, {"name": "B", "size": "m"}, minutes_ago=2)
    third = add_submission(app, survey, {"name": "C", "size": "s"}, minutes_ago=1)
    page = editor.get(f"/forms/{survey}/submissions/{third}?f.size=s")
    assert link(page, "next") == f"/forms/{survey}/submissions/{first}?f.size=s"
    assert link(page, "prev") is None
    assert link(editor.get(link(page, "next")), "prev") == (
        f"/forms/{survey}/submissions/{third}?f.size=s"
    )


@pytest.mark.parametrize(
    ("action", "flags", "expected"),
    [
        ("star", {}, {"is_starred": True}),
        ("unstar", {"is_starred": True}, {"is_starred": False}),
        ("unread", {"is_read": True}, {"is_read": False}),
        ("spam", {}, {"is_spam": True, "spam_reason": "manual"}),
        ("trash", {}, {"in_trash": True}),
        ("restore", {"deleted_at": NOW}, {"in_trash": False}),
    ],
)
def test_one_submission_can_be_marked(app, survey, signed_in, action, flags, expected):
    editor = signed_in(Role.EDITOR)
    submission_id = add_submission(app, survey, {"name": "Ann"}, **flags)
    response = editor.post(
        f"/forms/{survey}/submissions/{submission_id}/{action}", data={"csrf_token": csrf(editor)}
    )
    assert response.status_code == 302
    after = stored(app, submission_id)
    state = {
        "is_starred": after.is_starred,
        "is_read": after.is_read,
        "is_spam": after.is_spam,
        "spam_reason": after.spam_reason,
        "in_trash": after.deleted_at is not None,
    }
    assert {key: state[key] for key in expected} == expected


def test_not_spam_moves_to_the_inbox_counts_and_then_announces(app, survey, signed_in):
    editor = signed_in(Role.EDITOR)
    submission_id = add_submission(
        app, survey, {"name": "Real person"}, is_spam=True, spam_reason="honeypot"
    )
    heard = []

    def receiver(form, submission):
        # Sent inside the transaction: the submission is already out of spam and counted.
        heard.append((form.id, submission.id, submission.is_spam, form.submission_count))

    submission_accepted.connect(receiver)
    try:
        spam = editor.get(f"/forms/{survey}/submissions?folder=spam")
        assert "Honeypot filled in" in spam.get_data(as_text=True)
        response = editor.post(
            f"/forms/{survey}/submissions/{submission_id}/not_spam",
            data={"csrf_token": csrf(editor)},
        )
    finally:
        submission_accepted.disconnect(receiver)
    assert response.status_code == 302
    assert heard == [(survey, submission_id, False, 1)] or heard[0][:3] == (
        survey,
        submission_id,
        False,
    )
    assert stored(app, submission_id).is_spam is False
    with app.app_context():
        assert db.session.get(Form, survey).submission_count == 1
    inbox_ids = listed_ids(editor.get(f"/forms/{survey}/submissions"), survey)
    assert inbox_ids == [submission_id]


def test_not_spam_is_refused_when_the_form_is_full(app, survey, signed_in):
    editor = signed_in(Role.EDITOR)
    add_submission(app, survey, {"name": "First"})
    with app.app_context():
        db.session.get(Form, survey).max_responses = 1
        db.session.commit()
    spam_id = add_submission(app, survey, {"name": "Second"}, is_spam=True, spam_reason="rule")
    response = editor.post(
        f"/forms/{survey}/submissions/{spam_id}/not_spam",
        data={"csrf_token": csrf(editor)},
        follow_redirects=True,
    )
    assert "all the responses it can take" in response.get_data(as_text=True)
    assert stored(app, spam_id).is_spam is True


# --- bulk ----------------------------------------------------------------------------------------


def test_bulk_action_on_selected_rows(app, survey, signed_in):
    editor = signed_in(Role.EDITOR)
    ids = [add_submission(app, survey, {"name": f"P{n}"}, minutes_ago=n) for n in range(4)]
    response = editor.post(
        f"/forms/{survey}/submissions/bulk",
        data={"csrf_token": csrf(editor), "action": "star", "ids": ids[:2], "scope": "selected"},
        follow_redirects=True,
    )
    assert "Starred 2 submissions." in response.get_data(as_text=True)
    assert [stored(app, n).is_starred for n in ids] == [True, True, False, False]


def test_bulk_action_on_everything_that_matches_the_filter(app, survey, signed_in):
    editor = signed_in(Role.EDITOR)
    matching = [
        add_submission(app, survey, {"name": f"L{n}", "message": "Lisbon"}, minutes_ago=n)
        for n in range(1203)
    ]
    other = add_submission(app, survey, {"name": "X", "message": "Porto"})
    response = editor.post(
        f"/forms/{survey}/submissions/bulk",
        data={"csrf_token": csrf(editor), "action": "trash", "scope": "matching", "q": "lisbon"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/forms/{survey}/submissions?q=lisbon"
    with app.app_context():
        trashed = db.session.scalars(
            select(Submission.id).where(Submission.deleted_at.is_not(None))
        ).all()
    assert sorted(trashed) == sorted(matching)
    assert stored(app, other).deleted_at is None


def test_bulk_not_spam_announces_each_one(app, survey, signed_in):
    editor = signed_in(Role.EDITOR)
    ids = [
        add_submission(app, survey, {"name": f"S{n}"}, is_spam=True, spam_reason="rate")
        for n in range(3)
    ]
    heard = []
    receiver = lambda form, submission: heard.append(submission.id)  # noqa: E731
    submission_accepted.connect(receiver)
    try:
        editor.post(
            f"/forms/{survey}/submissions/bulk",
            data={
                "csrf_token": csrf(editor),
                "action": "not_spam",
                "scope": "matching",
                "folder": "spam",
            },
        )
    finally:
        submission_accepted.disconnect(receiver)
    assert sorted(heard) == sorted(ids)
    with app.app_context():
        assert db.session.get(Form, survey).submission_count == 3


def test_bulk_without_a_selection_says_so(app, survey, signed_in):
    editor = signed_in(Role.EDITOR)
    response = editor.post(
        f"/forms/{survey}/submissions/bulk",
        data={"csrf_token": csrf(editor), "action": "star"},
        follow_redirects=True,
    )
    assert "Select some submissions first." in response.get_data(as_text=True)


# --- trash and purge -----------------------------------------------------------------------------


def test_purge_deletes_only_what_has_been_in_the_trash_for_30_days(app, survey, runner):
    old = add_submission(app, survey, {"name": "Old"}, deleted_at=NOW - timedelta(days=31))
    recent = add_submission(app, survey, {"name": "Recent"}, deleted_at=NOW - timedelta(days=29))
    kept = add_submission(app, survey, {"name": "Kept", "message": "Lisbon"})
    with app.app_context():
        storage.save_upload(
            survey,
            "cv",
            __import__("app.fields", fromlist=["UploadedFile"]).UploadedFile(
                "a.txt", "text/plain", 1, b"a"
            ),
        )
        db.session.commit()
    result = runner.invoke(args=["submissions", "purge-trash"])
    assert result.exit_code == 0
    assert "Purged 1 submission from the trash." in result.output
    with app.app_context():
        remaining = db.session.scalars(select(Submission.id).order_by(Submission.id)).all()
    assert remaining == [recent, kept]
    assert old not in remaining


# --- across forms, views, seeding ----------------------------------------------------------------


def test_inbox_lists_forms_with_unread_counts_and_new_submissions(app, survey, signed_in):
    editor = signed_in(Role.EDITOR)
    other = make_survey(app, slug="other")
    add_submission(app, survey, {"name": "A"}, minutes_ago=5)
    add_submission(app, survey, {"name": "B"}, minutes_ago=4, is_read=True)
    newest = add_submission(app, other, {"name": "C"}, minutes_ago=1)
    add_submission(app, other, {"name": "Spam"}, is_spam=True)
    html = editor.get("/inbox").get_data(as_text=True)
    assert html.count("1 unread") == 2
    assert html.index(f"/forms/{other}/submissions/{newest}") < html.index(
        f"/forms/{survey}/submissions/"
    )
    assert 'aria-current="page">Inbox</a>' in html


def test_views_of_the_public_page_are_counted_in_batches(app, survey, client):
    with app.app_context():
        slug = db.session.get(Form, survey).slug
    for _ in range(3):
        assert client.get(f"/f/{slug}").status_code == 200
    with app.app_context():
        assert db.session.scalars(select(FormViewCount.views)).all() == []
        flush_views()
        assert db.session.scalars(select(FormViewCount.views)).all() == [3]


def test_seed_fills_a_form_with_searchable_submissions(app, survey, runner, signed_in):
    editor = signed_in(Role.EDITOR)
    result = runner.invoke(args=["submissions", "seed", "survey", "--count", "300", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "Seeded 300 submissions into 'survey'" in result.output
    with app.app_context():
        rows = db.session.scalars(select(Submission).where(Submission.form_id == survey)).all()
        assert len(rows) == 300
        assert all(NOW - timedelta(days=31) < row.created_at <= datetime.now(UTC) for row in rows)
        assert db.session.scalar(select(FormViewCount.views).limit(1)) is not None
        messages = [row.answers.get("message", "") for row in rows]
    city = next(
        word.rstrip(".") for message in messages if message for word in [message.split()[-1]]
    )
    expected = sum(1 for message in messages if city + "." in message)
    response = editor.get(f"/forms/{survey}/submissions?q={city}&folder=inbox")
    assert 0 < len(listed_ids(response, survey)) <= expected
    bad = runner.invoke(args=["submissions", "seed", "nope"])
    assert bad.exit_code == 2 and "no form with slug or id 'nope'" in bad.output
