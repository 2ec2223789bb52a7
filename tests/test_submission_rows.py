"""How a submission's row and its count are written: in a transaction of their own when nothing
else is written with them, else in the session's transaction with the rows that must commit
with them (outgoing deliveries, files, endpoint columns)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC

import pytest
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.caching import clear_process_caches
from app.database import is_postgresql
from app.extensions import db
from app.models import Delivery
from app.models import Form
from app.models import Submission
from app.services import forms
from app.services.delivery import outbox
from app.services.submissions import SubmissionContext
from app.services.submissions import accepting
from app.services.submissions import submit
from app.signals import needs_transaction
from tests.delivery_helpers import add_webhook
from tests.delivery_helpers import set_recipients
from tests.form_helpers import make_endpoint
from tests.form_helpers import make_form
from tests.public_helpers import CONTACT_ANSWERS
from tests.public_helpers import CONTACT_FIELDS
from tests.public_helpers import fetch_endpoint_keys
from tests.public_helpers import fetch_form
from tests.public_helpers import fetch_submissions


@pytest.fixture(autouse=True)
def _fresh_page_caches():
    clear_process_caches()


@contextmanager
def recorded_statements():
    """Each statement run, as (its first words, whether the driver was in autocommit, whether
    the session was in a transaction), and "COMMIT" for each commit, in order."""
    seen: list[tuple[str, bool] | str] = []

    def on_execute(connection, _cursor, statement, *_args):
        driver = connection.connection.dbapi_connection
        if is_postgresql(connection):
            autocommit = driver.autocommit
        else:
            autocommit = driver.isolation_level is None  # sqlite3's own autocommit
        in_session = db.session().in_transaction()
        seen.append((" ".join(statement.split()[:3]), autocommit, in_session))

    def on_commit(_connection):
        seen.append("COMMIT")

    event.listen(db.engine, "before_cursor_execute", on_execute)
    event.listen(db.engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
        event.remove(db.engine, "commit", on_commit)


def submit_to(slug: str, answers: dict, **context):
    return submit(
        forms.get_form_by_slug(slug), MultiDict(answers), MultiDict(), SubmissionContext(**context)
    )


def test_a_submission_that_writes_nothing_else_is_stored_by_itself(app):
    slug = make_form(app, CONTACT_FIELDS).slug
    client = app.test_client()
    headers = {"Idempotency-Key": "k-1", "User-Agent": "Tester/1"}
    client.post(f"/f/{slug}", data=CONTACT_ANSWERS)  # fills what each process keeps
    with app.app_context(), recorded_statements() as seen:
        response = client.post(f"/f/{slug}", data=CONTACT_ANSWERS, headers=headers)
        postgresql = is_postgresql()
    assert response.status_code == 303
    # Nothing ran in the session's transaction: the key's lookup, the claim of the client's
    # key, the count and the row, and the claim's release, on connections of their own.
    # PostgreSQL autocommits each statement, one round trip apiece with no BEGIN or COMMIT,
    # and its WITH clause counts and inserts at once.
    lookup = ("SELECT submissions.id, submissions.meta,", postgresql, False)
    claim = ("INSERT INTO idempotency_claims", postgresql, False)
    release = ("DELETE FROM idempotency_claims", postgresql, False)
    if postgresql:
        assert seen == [lookup, claim, ("WITH counted AS", True, False), release]
    else:
        stored = [("UPDATE forms SET", False, False), ("INSERT INTO submissions", False, False)]
        assert seen == [lookup, claim, "COMMIT", *stored, "COMMIT", release, "COMMIT"]
    _first, row = fetch_submissions(app, slug)
    assert response.headers["Location"].endswith(f"/f/{slug}/thanks")
    assert row.answers == CONTACT_ANSWERS
    assert row.meta == {"reply_to": "ann@example.com", "user_agent": "Tester/1"}
    assert row.idempotency_key == "k-1"
    assert row.created_at.tzinfo == UTC
    assert (row.is_spam, row.spam_reason, row.is_read, row.is_starred) == (
        False,
        None,
        False,
        False,
    )
    assert (row.deleted_at, row.summarized) == (None, False)
    counted = fetch_form(app, slug)
    assert counted.submission_count == 2
    assert counted.last_submission_at == row.created_at


@pytest.mark.parametrize("target", ["recipients", "webhook"])
def test_a_submission_with_deliveries_commits_with_them_or_not_at_all(app, monkeypatch, target):
    slug = make_form(app, CONTACT_FIELDS).slug
    form_id = fetch_form(app, slug).id
    if target == "recipients":
        set_recipients(app, form_id, "team@example.com")
    else:
        app.config["WEBHOOK_ALLOW_PRIVATE"] = True  # no DNS in tests: a loopback address
        add_webhook(app, form_id, "http://127.0.0.1:9/new")
    with app.test_request_context():
        assert needs_transaction(forms.get_form_by_slug(slug))
        with recorded_statements() as seen:
            submit_to(slug, CONTACT_ANSWERS)
        postgresql = is_postgresql()
        assert db.session.scalar(select(func.count()).select_from(Delivery)) == 1
    # The row, its count and the delivery went in in one transaction, and one commit.
    assert seen.count("COMMIT") == 1
    assert seen[-1] == "COMMIT"
    statements = [entry for entry in seen if isinstance(entry, tuple)]
    written = [sql for sql, *_ in statements if sql.startswith(("INSERT", "UPDATE", "WITH"))]
    if postgresql:
        assert written == ["WITH counted AS", "INSERT INTO deliveries"]
    else:
        assert written == ["UPDATE forms SET", "INSERT INTO submissions", "INSERT INTO deliveries"]
    assert all(in_session and not autocommit for _sql, autocommit, in_session in statements)

    def queue_fails(*_args, **_kwargs):
        raise RuntimeError("the outbox is full")

    monkeypatch.setattr(outbox, "queue", queue_fails)
    with app.test_request_context(), pytest.raises(RuntimeError):
        submit_to(slug, {**CONTACT_ANSWERS, "name": "Bea"})
    # Without its delivery the submission is not stored, nor counted.
    assert [row.answers["name"] for row in fetch_submissions(app, slug)] == ["Ann"]
    assert fetch_form(app, slug).submission_count == 1


def test_a_form_without_deliveries_needs_no_transaction(app):
    slug = make_form(app, CONTACT_FIELDS).slug
    form_id = fetch_form(app, slug).id
    with app.app_context():
        assert not needs_transaction(db.session.get(Form, form_id))


def test_a_request_that_already_wrote_stores_the_submission_in_its_transaction(app):
    """Whatever the request did before (here a pending change) commits with the submission."""
    slug = make_form(app, CONTACT_FIELDS).slug
    with app.test_request_context():
        form = forms.get_form_by_slug(slug)
        db.session.get(Form, form.id).description = "Changed in the same request"
        db.session.flush()
        with recorded_statements() as seen:
            submit(form, MultiDict(CONTACT_ANSWERS), MultiDict(), SubmissionContext())
    assert seen.count("COMMIT") == 1
    assert fetch_form(app, slug).description == "Changed in the same request"
    assert len(fetch_submissions(app, slug)) == 1


def test_a_retry_that_loses_the_race_for_its_key_is_answered_with_the_first_row(app, monkeypatch):
    """Two requests with one Idempotency-Key both found no row; the second's insert fails on
    the unique key, and nothing of it stays: neither a row nor a count."""
    slug = make_form(app, CONTACT_FIELDS).slug
    with app.test_request_context():
        first = submit_to(slug, CONTACT_ANSWERS, idempotency_key="retry-1")
    lookups = []
    real_lookup = accepting._find_duplicate

    def first_lookup_misses(form, key, **options):
        lookups.append(key)
        return None if len(lookups) == 1 else real_lookup(form, key, **options)

    monkeypatch.setattr(accepting, "_find_duplicate", first_lookup_misses)
    with app.test_request_context():
        again = submit_to(slug, {**CONTACT_ANSWERS, "name": "Bea"}, idempotency_key="retry-1")
    assert lookups == ["retry-1", "retry-1"]  # the race, then the answer from the stored row
    assert (again.submission_id, again.duplicate) == (first.submission_id, True)
    assert [row.answers["name"] for row in fetch_submissions(app, slug)] == ["Ann"]
    assert fetch_form(app, slug).submission_count == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_connection_pinged_after_idling_can_store_a_submission_alone(
    app, monkeypatch, database_url
):
    """The ping leaves no transaction open, so the connection can still go into autocommit."""
    from app import database

    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)  # every checkout pings
    slug = make_form(app, CONTACT_FIELDS).slug
    client = app.test_client()
    for name in ("Ann", "Bea"):
        response = client.post(f"/f/{slug}", data={**CONTACT_ANSWERS, "name": name})
        assert response.status_code == 303
    assert [row.answers["name"] for row in fetch_submissions(app, slug)] == ["Ann", "Bea"]


def test_spam_is_stored_uncounted_and_counted_when_rescued(app):
    from app.services.inbox import triage

    slug = make_form(app, CONTACT_FIELDS, max_responses=1).slug
    with app.test_request_context():
        accepted = submit_to(slug, {**CONTACT_ANSWERS, "_gotcha": "filled by a bot"})
    assert accepted.spam is True
    assert fetch_form(app, slug).submission_count == 0
    with app.app_context():
        form = forms.get_form_by_slug(slug)
        triage.mark_not_spam(form, db.session.get(Submission, accepted.submission_id))
    assert fetch_form(app, slug).submission_count == 1


def test_a_static_site_post_records_new_field_names_and_is_stored_alone_without_any(app):
    slug = make_endpoint(app, slug="site-contact")
    client = app.test_client()
    first = client.post(f"/f/{slug}", data={"name": "Ann", "email": "ann@example.com"})
    assert first.status_code == 303
    assert fetch_endpoint_keys(app, slug) == ["email", "name"]

    with app.app_context(), recorded_statements() as seen:
        again = client.post(f"/f/{slug}", data={"email": "bea@example.com", "name": "Bea"})
    assert again.status_code == 303
    # Both names are stored already: nothing but the row and its count, outside the session.
    statements = [entry for entry in seen if isinstance(entry, tuple)]
    assert not any("endpoint_keys" in sql for sql, _autocommit, _in_session in statements)
    assert not any(in_session for _sql, _autocommit, in_session in statements)

    with app.app_context(), recorded_statements() as seen:
        more = client.post(f"/f/{slug}", data={"name": "Cy", "phone": "+44 20 7946 0958"})
    assert more.status_code == 303
    # A new name is recorded in the transaction that stores the row.
    assert ("INSERT INTO endpoint_keys", False, True) in seen
    assert fetch_endpoint_keys(app, slug) == ["email", "name", "phone"]
    names = [row.answers["name"] for row in fetch_submissions(app, slug)]
    assert names == ["Ann", "Bea", "Cy"]
    assert fetch_form(app, slug).submission_count == 3
