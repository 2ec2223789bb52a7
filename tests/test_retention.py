"""Retention: the worker deletes each form's submissions older than its days (or the site's),
with their files and deliveries, keeps the summary consistent, writes one audit entry, and the
settings page says what goes next."""

from __future__ import annotations

import io
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy import update

from app.extensions import db
from app.models import AuditEntry
from app.models import Delivery
from app.models import DeliveryKind
from app.models import DeliveryStatus
from app.models import Role
from app.models import StoredFile
from app.models import Submission
from app.models import SummaryRollup
from app.services import retention
from app.services.delivery.worker import Worker
from app.services.inbox import rollups
from tests.auth_helpers import AuthActions
from tests.delivery_helpers import CONTACT_FIELDS
from tests.delivery_helpers import Clock
from tests.delivery_helpers import Reply
from tests.delivery_helpers import add_webhook
from tests.delivery_helpers import all_deliveries
from tests.delivery_helpers import mail_app_fixture  # noqa: F401
from tests.delivery_helpers import receiver_fixture  # noqa: F401
from tests.delivery_helpers import run_worker
from tests.delivery_helpers import set_recipients
from tests.delivery_helpers import smtp_server_fixture  # noqa: F401
from tests.delivery_helpers import submit_answers
from tests.form_helpers import change_settings
from tests.form_helpers import make_endpoint
from tests.form_helpers import make_form
from tests.public_helpers import PNG
from tests.public_helpers import fetch_form

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
JSON = {"Accept": "application/json"}


def post(client, slug: str, name: str, with_file: bool = False) -> None:
    data = {"name": name}
    if with_file:
        data["attachment"] = (io.BytesIO(PNG), "photo.png", "image/png")
    assert client.post(f"/f/{slug}", data=data, headers=JSON).status_code in (200, 201)


def age(app, slug: str, name: str, days: int) -> None:
    """Make the submission answered ``name`` ``days`` old at NOW."""
    with app.app_context():
        form_id = fetch_form(app, slug).id
        rows = db.session.scalars(select(Submission).where(Submission.form_id == form_id)).all()
        (row,) = [row for row in rows if row.answers.get("name") == name]
        db.session.execute(
            update(Submission)
            .where(Submission.id == row.id)
            .values(created_at=NOW - timedelta(days=days))
        )
        db.session.commit()


def names_of(app, slug: str) -> list[str]:
    with app.app_context():
        form_id = fetch_form(app, slug).id
        query = select(Submission).where(Submission.form_id == form_id).order_by(Submission.id)
        return [row.answers["name"] for row in db.session.scalars(query)]


def rollup_rows(app, form_id: int) -> list[tuple]:
    with app.app_context():
        query = select(SummaryRollup).where(SummaryRollup.form_id == form_id)
        # A day counted down to nothing keeps its row at zero until a rebuild.
        return sorted(
            (str(r.day), r.field_key, r.value, r.count, r.total)
            for r in db.session.scalars(query)
            if r.count
        )


def retention_entries(app) -> list[AuditEntry]:
    with app.app_context():
        query = select(AuditEntry).where(AuditEntry.action == "retention.run")
        found = list(db.session.scalars(query.order_by(AuditEntry.id)))
        db.session.expunge_all()
        return found


@pytest.fixture
def site(app, client) -> str:
    """A static-site form keeping 30 days: two answers 40 days old (one with a file and an
    email queued for each) and one 5 days old."""
    slug = make_endpoint(app, slug="site", retention_days=30)
    set_recipients(app, fetch_form(app, slug).id, "team@example.com")
    post(client, slug, "Old Ann", with_file=True)
    post(client, slug, "Old Bob")
    post(client, slug, "New Cy")
    age(app, slug, "Old Ann", 40)
    age(app, slug, "Old Bob", 40)
    age(app, slug, "New Cy", 5)
    with app.app_context():
        rollups.catch_up()
        db.session.commit()
    return slug


def test_a_run_deletes_only_old_submissions_with_their_files_and_deliveries(app, site):
    form_id = fetch_form(app, site).id
    with app.app_context():
        assert db.session.scalar(select(db.func.count(StoredFile.id))) == 1
        deliveries_before = db.session.scalar(select(db.func.count(Delivery.id)))

    with app.app_context():
        counts = retention.run(NOW)

    assert names_of(app, site) == ["New Cy"]
    assert (counts.forms, counts.submissions, counts.files) == (1, 2, 1)
    assert counts.deliveries == 2 == deliveries_before - 1  # an email each; New Cy's stays
    with app.app_context():
        assert db.session.scalar(select(db.func.count(StoredFile.id))) == 0
        remaining = db.session.scalars(select(Delivery.submission_id)).all()
        assert len(remaining) == 1
    (entry,) = retention_entries(app)
    assert entry.details == {
        "forms": 1,
        "submissions": 2,
        "files": 1,
        "deliveries": 2,
        "trashed_submissions": 0,
        "trashed_forms": 0,
    }
    assert entry.actor_label == "retention"
    assert "Ann" not in str(entry.details) and entry.target_kind is None
    # The summary counts what is stored: the same as a recount from the rows.
    after_run = rollup_rows(app, form_id)
    assert [row[0] for row in after_run if row[1] == "_hours"] == ["2026-06-26"]
    with app.app_context():
        rollups.rebuild(form_id)
    assert rollup_rows(app, form_id) == after_run


def test_a_second_run_finds_nothing_more_and_still_writes_its_entry(app, site):
    with app.app_context():
        retention.run(NOW)
        again = retention.run(NOW)
    assert again.submissions == 0
    assert len(retention_entries(app)) == 2


def test_forms_without_retention_keep_everything_unless_the_site_says(app, client):
    slug = make_endpoint(app, slug="keeper")
    post(client, slug, "Ancient")
    age(app, slug, "Ancient", 3000)
    with app.app_context():
        assert retention.run(NOW).submissions == 0
    assert names_of(app, slug) == ["Ancient"]

    app.config["RETENTION_DAYS"] = 365
    with app.app_context():
        assert retention.preview(fetch_form(app, slug), NOW).submissions == 1
        assert retention.run(NOW).submissions == 1
    assert names_of(app, slug) == []


def test_the_settings_page_says_what_the_next_run_deletes(app, site, signed_in):
    client = signed_in(Role.EDITOR)
    form_id = fetch_form(app, site).id
    page = client.get(f"/forms/{form_id}/settings").get_data(as_text=True)
    cutoff = (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%d")
    # The test's NOW is in the past, so by today's clock the answers are older still.
    assert "Submissions are kept 30 days." in page
    assert f"Next run deletes 3 submissions and 1 file older than {cutoff}." in page
    assert 'name="retention_days"' in page and 'value="30"' in page

    change_settings(app, site, retention_days=None)
    page = client.get(f"/forms/{form_id}/settings").get_data(as_text=True)
    assert "Submissions are kept until someone deletes them." in page


def test_the_preview_counts_what_a_run_then_deletes(app, site):
    with app.app_context():
        form = fetch_form(app, site)
        preview = retention.preview(form, NOW)
    assert (preview.days, preview.submissions, preview.files) == (30, 2, 1)
    assert preview.cutoff == NOW - timedelta(days=30)
    with app.app_context():
        assert retention.run(NOW).submissions == preview.submissions


def test_days_out_of_range_are_refused_on_the_settings_page(app, signed_in):
    slug = make_endpoint(app, slug="site")
    client = signed_in(Role.EDITOR)
    form_id = fetch_form(app, slug).id
    response = AuthActions(client).post(
        f"/forms/{form_id}/settings",
        {"status": "open", "submit_label": "Send", "retention_days": "0"},
    )
    assert response.status_code == 422
    assert "Use a number of days from 1 to 36,500, or leave it empty." in response.get_data(
        as_text=True
    )
    assert fetch_form(app, slug).retention_days is None


def test_the_worker_runs_retention_once_a_day(app, site):
    clock = [NOW]
    worker = Worker(app, clock=lambda: clock[0], poll_seconds=0)
    worker.run_once()
    assert names_of(app, site) == ["New Cy"]
    clock[0] = NOW + timedelta(hours=3)
    worker.run_once()
    assert len(retention_entries(app)) == 1
    clock[0] = NOW + timedelta(days=26)
    worker.run_once()
    assert names_of(app, site) == []  # New Cy is 31 days old now
    assert [e.details["submissions"] for e in retention_entries(app)] == [2, 1]


# --- forward only -------------------------------------------------------------------------------


def submission_ids(app, form_id: int) -> list[int]:
    with app.app_context():
        query = select(Submission.id).where(Submission.form_id == form_id)
        return list(db.session.scalars(query))


def test_a_forward_only_submission_goes_once_its_email_and_webhook_are_delivered(
    mail_app, receiver, smtp_server
):
    receiver.script(Reply(500, b"down for a moment"))
    form = make_form(mail_app, CONTACT_FIELDS, forward_only=True)
    add_webhook(mail_app, form.id, receiver.url)
    set_recipients(mail_app, form.id, "team@example.com")
    submitted = submit_answers(mail_app, form.id, {"name": "Ann", "email": "ann@example.com"})
    clock = Clock()

    assert run_worker(mail_app, clock) == 2  # the email is sent, the webhook call fails
    assert submission_ids(mail_app, form.id) == [submitted]
    assert len(smtp_server.messages) == 1
    clock.advance(timedelta(minutes=5))
    assert run_worker(mail_app, clock) == 1  # the retry is delivered: nothing left to send

    assert submission_ids(mail_app, form.id) == []
    assert all_deliveries(mail_app, submission_id=submitted) == []
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body  # the retry had its payload


def test_a_form_that_is_not_forward_only_keeps_its_delivered_submissions(mail_app, receiver):
    form = make_form(mail_app, CONTACT_FIELDS)
    add_webhook(mail_app, form.id, receiver.url)
    submitted = submit_answers(mail_app, form.id, {"name": "Ann", "email": "ann@example.com"})
    assert run_worker(mail_app, Clock()) == 1
    assert submission_ids(mail_app, form.id) == [submitted]


def test_a_forward_only_submission_whose_call_failed_for_good_is_kept(mail_app, receiver):
    form = make_form(mail_app, CONTACT_FIELDS, forward_only=True)
    add_webhook(mail_app, form.id, receiver.url)
    set_recipients(mail_app, form.id, "team@example.com")
    submitted = submit_answers(mail_app, form.id, {"name": "Ann", "email": "ann@example.com"})
    with mail_app.app_context():
        db.session.execute(
            update(Delivery)
            .where(Delivery.kind == DeliveryKind.WEBHOOK)
            .values(status=DeliveryStatus.FAILED)
        )
        db.session.commit()
    assert run_worker(mail_app, Clock()) == 1  # the email only
    assert submission_ids(mail_app, form.id) == [submitted]


def test_a_worker_started_for_one_pass_runs_retention_only_if_a_day_has_passed(app, site):
    Worker(app, clock=lambda: NOW, poll_seconds=0).run_once()
    Worker(app, clock=lambda: NOW + timedelta(hours=23), poll_seconds=0).run_once()
    assert len(retention_entries(app)) == 1
    Worker(app, clock=lambda: NOW + timedelta(hours=24), poll_seconds=0).run_once()
    assert [entry.created_at for entry in retention_entries(app)] == [
        NOW,
        NOW + timedelta(hours=24),
    ]
