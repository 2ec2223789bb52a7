"""Failed webhook calls come back with exponential backoff for about a day; an endpoint that
fails 20 times in a row, over an hour at least, is disabled and its form's owner is told. The
clock is moved by hand."""

from datetime import timedelta
from itertools import pairwise

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry
from app.models import DeliveryStatus
from app.models import Role
from app.models.delivery import FAILING_TIME_BEFORE_DISABLING
from app.services.delivery import outbox
from tests.auth_helpers import make_user
from tests.delivery_helpers import CONTACT_FIELDS
from tests.delivery_helpers import Clock
from tests.delivery_helpers import Reply
from tests.delivery_helpers import add_webhook
from tests.delivery_helpers import all_deliveries
from tests.delivery_helpers import attempts_of
from tests.delivery_helpers import fetch_endpoint
from tests.delivery_helpers import mail_app_fixture  # noqa: F401
from tests.delivery_helpers import receiver_fixture  # noqa: F401
from tests.delivery_helpers import run_worker
from tests.delivery_helpers import smtp_server_fixture  # noqa: F401
from tests.delivery_helpers import submit_answers
from tests.form_helpers import make_form

ANSWERS = {"name": "Ann", "email": "ann@example.com"}


def one_delivery(app):
    [delivery] = all_deliveries(app, kind="webhook")
    return delivery


@pytest.mark.parametrize(
    ("attempt", "seconds"),
    [(1, 30), (2, 60), (3, 120), (5, 480), (9, 7680), (10, 14400), (14, 14400)],
)
def test_retry_delay_doubles_up_to_four_hours_with_a_little_jitter(attempt, seconds):
    assert outbox.retry_delay(attempt, jitter=0) == timedelta(seconds=seconds)
    assert outbox.retry_delay(attempt, jitter=1) == timedelta(seconds=seconds * 1.1)


def test_a_500_is_retried_after_the_backoff_and_then_delivered(mail_app, receiver):
    receiver.script(Reply(500, b"database down"))
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    endpoint_id, _secret = add_webhook(mail_app, form_id, receiver.url)
    submit_answers(mail_app, form_id, ANSWERS)
    clock = Clock()

    assert run_worker(mail_app, clock) == 1
    delivery = one_delivery(mail_app)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_error == "HTTP 500 Internal Server Error"
    wait = delivery.next_attempt_at - clock.now
    assert timedelta(seconds=30) <= wait <= timedelta(seconds=33)
    assert fetch_endpoint(mail_app, endpoint_id).consecutive_failures == 1

    clock.advance(timedelta(seconds=20))
    assert run_worker(mail_app, clock) == 0  # not yet
    clock.advance(timedelta(seconds=15))
    assert run_worker(mail_app, clock) == 1

    delivery = one_delivery(mail_app)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    first, second = attempts_of(mail_app, delivery.id)
    assert (first.status_code, first.succeeded, first.response_excerpt) == (
        500,
        False,
        "database down",
    )
    assert (second.status_code, second.succeeded, second.response_excerpt) == (200, True, "ok")
    assert receiver.delivery_ids() == [delivery.public_id] * 2  # same id: receivers dedupe
    assert receiver.requests[0].body == receiver.requests[1].body
    assert fetch_endpoint(mail_app, endpoint_id).consecutive_failures == 0


def test_a_timeout_counts_as_a_failure_and_is_retried(mail_app, receiver):
    mail_app.config["WEBHOOK_TIMEOUT"] = 1
    receiver.script(Reply(200, delay=3))
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    add_webhook(mail_app, form_id, receiver.url)
    submit_answers(mail_app, form_id, ANSWERS)
    clock = Clock()

    run_worker(mail_app, clock)
    delivery = one_delivery(mail_app)
    [attempt] = attempts_of(mail_app, delivery.id)
    assert attempt.error == "Timed out: no answer within 1 seconds."
    assert 900 <= attempt.duration_ms < 2500
    assert delivery.status == DeliveryStatus.PENDING
    assert timedelta(seconds=30) <= delivery.next_attempt_at - clock.now <= timedelta(seconds=33)

    clock.advance(timedelta(minutes=1))
    run_worker(mail_app, clock)
    assert one_delivery(mail_app).status == DeliveryStatus.DELIVERED


def test_a_slow_trickle_is_cut_at_the_timeout(mail_app):
    """A receiver that sends its headers a byte at a time cannot hold a worker for long."""
    import socket
    import threading

    mail_app.config["WEBHOOK_TIMEOUT"] = 1
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def trickle():
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: yes\r\n":
                if stop.wait(0.3):
                    return
                connection.sendall(bytes([byte]))

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        form_id = make_form(mail_app, CONTACT_FIELDS).id
        add_webhook(mail_app, form_id, f"http://127.0.0.1:{listener.getsockname()[1]}/")
        submit_answers(mail_app, form_id, ANSWERS)
        run_worker(mail_app)
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=5)
    [attempt] = attempts_of(mail_app, one_delivery(mail_app).id)
    assert attempt.error.startswith("Timed out")
    assert attempt.duration_ms < 2500


def test_retries_last_about_a_day_then_the_delivery_fails(mail_app, receiver):
    receiver.default = Reply(503, b"maintenance")
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    add_webhook(mail_app, form_id, receiver.url)
    submit_answers(mail_app, form_id, ANSWERS)
    clock = Clock()
    start = clock.now

    while one_delivery(mail_app).status == DeliveryStatus.PENDING:
        clock.now = max(clock.now, one_delivery(mail_app).next_attempt_at)
        assert run_worker(mail_app, clock) == 1

    delivery = one_delivery(mail_app)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, outbox.MAX_ATTEMPTS)
    assert delivery.last_error == "HTTP 503 Service Unavailable"
    assert len(receiver.requests) == 15
    span = clock.now - start
    assert timedelta(hours=24) <= span <= timedelta(hours=27)
    times = [attempt.started_at for attempt in attempts_of(mail_app, delivery.id)]
    for number, (earlier, later) in enumerate(pairwise(times), start=1):
        assert outbox.retry_delay(number, 0) <= later - earlier <= outbox.retry_delay(number, 1)


def disable_after_failures(app, receiver, owner_id=None):
    receiver.default = Reply(500, b"broken")
    form_id = make_form(app, CONTACT_FIELDS, owner_id=owner_id).id
    endpoint_id, _secret = add_webhook(app, form_id, receiver.url)
    for number in range(21):
        submit_answers(app, form_id, {"name": f"Person {number}"})
    return form_id, endpoint_id


def fail_for_an_hour(app) -> None:
    """21 fail at once, which is not enough; the first retry an hour later disables it."""
    clock = Clock()
    run_worker(app, clock)
    clock.advance(FAILING_TIME_BEFORE_DISABLING)
    run_worker(app, clock)


def test_twenty_failures_in_a_row_disable_the_endpoint_and_email_its_owner(
    mail_app, receiver, smtp_server
):
    make_user(mail_app, "owner@example.com", Role.OWNER)
    creator = make_user(mail_app, "maker@example.com", Role.EDITOR)
    form_id, endpoint_id = disable_after_failures(mail_app, receiver, owner_id=creator)

    fail_for_an_hour(mail_app)  # 21 + 1 fail; then the owner's email goes out
    assert len(receiver.requests) == 22
    endpoint = fetch_endpoint(mail_app, endpoint_id)
    assert endpoint.enabled is False
    assert "after 22 failed deliveries in a row" in endpoint.disabled_reason
    # Those waiting for a retry are given up with the endpoint.
    calls = all_deliveries(mail_app, kind="webhook")
    assert {d.status for d in calls} == {DeliveryStatus.FAILED}
    assert {d.last_error for d in calls} == {"The webhook was disabled after failing repeatedly."}
    assert sorted(d.attempts for d in calls) == [1] * 20 + [2]  # the soonest due was retried
    with mail_app.app_context():
        (entry,) = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "webhook.disabled")
        ).all()
        assert (entry.actor_label, entry.target_id) == ("worker", str(endpoint_id))
        assert entry.details == {"failures": 22}

    mail = smtp_server.one_to("maker@example.com")  # the form's creator, not every owner
    assert smtp_server.to("owner@example.com") == []
    assert mail.message["Subject"] == "Webhook disabled for Contact us"
    assert receiver.url in mail.text()
    assert f"http://127.0.0.1:5000/forms/{form_id}/webhooks/{endpoint_id}" in mail.text()

    submit_answers(mail_app, form_id, ANSWERS)
    assert len(all_deliveries(mail_app, kind="webhook")) == 21  # nothing new for it


def test_without_an_active_creator_every_owner_is_told(mail_app, receiver, smtp_server):
    make_user(mail_app, "first@example.com", Role.OWNER)
    make_user(mail_app, "second@example.com", Role.OWNER)
    make_user(mail_app, "editor@example.com", Role.EDITOR)
    disable_after_failures(mail_app, receiver)
    fail_for_an_hour(mail_app)
    assert sorted(to for mail in smtp_server.messages for to in mail.rcpt_tos) == [
        "first@example.com",
        "second@example.com",
    ]


def test_a_short_outage_disables_nothing_however_many_deliveries_fail(mail_app, receiver):
    receiver.default = Reply(503, b"restarting")
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    endpoint_id, _secret = add_webhook(mail_app, form_id, receiver.url)
    for number in range(50):
        submit_answers(mail_app, form_id, {"name": f"Person {number}"})
    clock = Clock()
    assert run_worker(mail_app, clock) == 50
    assert fetch_endpoint(mail_app, endpoint_id).consecutive_failures == 50

    receiver.default = Reply(200)  # back a minute later
    clock.advance(timedelta(minutes=1))
    assert run_worker(mail_app, clock) == 50
    endpoint = fetch_endpoint(mail_app, endpoint_id)
    assert (endpoint.enabled, endpoint.consecutive_failures) == (True, 0)
    calls = all_deliveries(mail_app, kind="webhook")
    assert {d.status for d in calls} == {DeliveryStatus.DELIVERED}


def test_a_success_resets_the_run_of_failures(mail_app, receiver):
    receiver.script(*[500] * 19, 200, *[500] * 19)
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    endpoint_id, _secret = add_webhook(mail_app, form_id, receiver.url)
    for number in range(39):
        submit_answers(mail_app, form_id, {"name": f"Person {number}"})
    run_worker(mail_app)
    endpoint = fetch_endpoint(mail_app, endpoint_id)
    assert (endpoint.enabled, endpoint.consecutive_failures) == (True, 19)


def test_enabling_again_clears_the_failures_and_redelivery_works(
    mail_app, receiver, smtp_server, auth, owner
):
    form_id, endpoint_id = disable_after_failures(mail_app, receiver)
    fail_for_an_hour(mail_app)
    receiver.default = Reply(200)
    auth.login()
    path = f"/forms/{form_id}/webhooks/{endpoint_id}"
    response = auth.post(path, {"url": receiver.url, "preset": "generic", "enabled": "y"})
    assert response.status_code == 303
    endpoint = fetch_endpoint(mail_app, endpoint_id)
    assert (endpoint.enabled, endpoint.consecutive_failures, endpoint.disabled_reason) == (
        True,
        0,
        None,
    )
    failed = all_deliveries(mail_app, kind="webhook")[-1]
    auth.post(f"{path}/deliveries/{failed.id}/redeliver")
    run_worker(mail_app)
    assert all_deliveries(mail_app, kind="webhook")[-1].status == DeliveryStatus.DELIVERED
