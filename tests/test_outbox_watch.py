"""Deliveries nobody sends: /readyz reports how old the oldest unsent one is, and the inbox
says so once deliveries have been due for over ten minutes (no worker running)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from app.extensions import db
from app.models import Delivery
from app.models.types import utcnow
from tests.delivery_helpers import CONTACT_FIELDS
from tests.delivery_helpers import mail_app_fixture  # noqa: F401
from tests.delivery_helpers import run_worker
from tests.delivery_helpers import set_recipients
from tests.delivery_helpers import smtp_server_fixture  # noqa: F401
from tests.delivery_helpers import submit_answers
from tests.form_helpers import make_form

ANSWERS = {"name": "Ann", "email": "ann@example.com", "message": "Hi", "size": "M"}
BANNER = "Emails and webhooks have been waiting since"


def queue_an_email(app, *, minutes_ago: int) -> int:
    """A notification queued (and due) ``minutes_ago``; the form's id."""
    form_id = make_form(app, CONTACT_FIELDS).id
    set_recipients(app, form_id, "owner@example.com")
    submit_answers(app, form_id, ANSWERS)
    then = utcnow() - timedelta(minutes=minutes_ago)
    with app.app_context():
        db.session.execute(update(Delivery).values(created_at=then, next_attempt_at=then))
        db.session.commit()
    return form_id


def test_readyz_reports_the_outbox(mail_app, client):
    empty = client.get("/readyz").get_json()["outbox"]
    assert empty == {
        "depth": 0,
        "oldest_undelivered_age_seconds": None,
        "overdue_seconds": None,
        "stuck": False,
        "worker_last_seen_age_seconds": None,
    }
    queue_an_email(mail_app, minutes_ago=12)
    waiting = client.get("/readyz").get_json()["outbox"]
    assert waiting["depth"] == 1
    assert 12 * 60 <= waiting["oldest_undelivered_age_seconds"] < 13 * 60
    assert waiting["stuck"] is True
    assert waiting["worker_last_seen_age_seconds"] is None

    run_worker(mail_app)
    sent = client.get("/readyz").get_json()["outbox"]
    assert sent["depth"] == 0
    assert (sent["oldest_undelivered_age_seconds"], sent["stuck"]) == (None, False)
    assert 0 <= sent["worker_last_seen_age_seconds"] < 60


def test_the_inbox_says_when_deliveries_are_stuck(mail_app, signed_in):
    client = signed_in()
    form_id = queue_an_email(mail_app, minutes_ago=3)
    for page in ("/inbox", f"/forms/{form_id}/submissions"):
        assert BANNER not in client.get(page).get_data(as_text=True)  # a worker may be busy

    with mail_app.app_context():
        then = utcnow() - timedelta(minutes=11)
        db.session.execute(update(Delivery).values(next_attempt_at=then))
        db.session.commit()
    for page in ("/inbox", f"/forms/{form_id}/submissions"):
        text = client.get(page).get_data(as_text=True)
        assert BANNER in text
        assert "Is <code>flask worker</code> running?" in text

    run_worker(mail_app)
    assert BANNER not in client.get("/inbox").get_data(as_text=True)


def test_a_delivery_waiting_for_its_retry_is_not_stuck(mail_app, signed_in, smtp_server):
    client = signed_in()
    queue_an_email(mail_app, minutes_ago=30)
    smtp_server.handler.refuse["owner@example.com"] = "450 Try again later"
    run_worker(mail_app)  # fails; its next try is in the future
    assert BANNER not in client.get("/inbox").get_data(as_text=True)
    outbox = client.get("/readyz").get_json()["outbox"]
    assert outbox["depth"] == 1
    assert outbox["oldest_undelivered_age_seconds"] >= 30 * 60
    assert outbox["stuck"] is False
