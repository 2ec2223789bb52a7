"""The outbox and its workers: rows written with the submission, claims that never overlap
(threads with their own connections, on SQLite and PostgreSQL), a worker killed mid-delivery
whose delivery is sent again after its lease, and the development server's worker thread."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import click
import pytest
from sqlalchemy import func
from sqlalchemy import select

from app.cli.worker import served_by_flask_run
from app.extensions import db
from app.models import Delivery
from app.models import DeliveryKind
from app.models import DeliveryStatus
from app.models import DeliveryTrigger
from app.models import Submission
from app.services.delivery import outbox
from app.services.delivery.transport import SendResult
from app.services.delivery.worker import Worker
from app.signals import submission_accepted
from tests.delivery_helpers import CONTACT_FIELDS
from tests.delivery_helpers import Clock
from tests.delivery_helpers import add_webhook
from tests.delivery_helpers import all_deliveries
from tests.delivery_helpers import attempts_of
from tests.delivery_helpers import free_port
from tests.delivery_helpers import mail_app_fixture  # noqa: F401
from tests.delivery_helpers import receiver_fixture  # noqa: F401
from tests.delivery_helpers import run_worker
from tests.delivery_helpers import set_recipients
from tests.delivery_helpers import smtp_server_fixture  # noqa: F401
from tests.delivery_helpers import submit_answers
from tests.form_helpers import make_form

PROJECT_DIR = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
LEASE = timedelta(seconds=60)


def queue_emails(app, count: int) -> list[int]:
    with app.app_context():
        rows = [
            outbox.queue(
                DeliveryKind.EMAIL,
                {"to": f"p{n}@example.org", "subject": "s", "text": "t"},
                event="notification",
                trigger=DeliveryTrigger.SYSTEM,
            )
            for n in range(count)
        ]
        db.session.commit()
        return [row.id for row in rows]


def count_rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def subprocess_env(app, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "APP_ENV": "testing",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "FLASK_APP": "wsgi",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def stop(process: subprocess.Popen) -> None:
    """Stop the one process this test started, by its id."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# --- written with the submission ---------------------------------------------------------------


def test_deliveries_are_stored_with_the_submission_before_any_worker_runs(mail_app, receiver):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    set_recipients(mail_app, form_id, "team@example.org", enabled=True, subject="Hi", message="Hi")
    add_webhook(mail_app, form_id, receiver.url)
    add_webhook(mail_app, form_id, receiver.url + "?second")
    submission_id = submit_answers(mail_app, form_id, {"name": "Ann", "email": "ann@example.com"})

    rows = all_deliveries(mail_app)
    assert sorted((row.kind.value, row.event) for row in rows) == [
        ("email", "autoresponse"),
        ("email", "notification"),
        ("webhook", "submission.created"),
        ("webhook", "submission.created"),
    ]
    assert {row.submission_id for row in rows} == {submission_id}
    assert {row.status for row in rows} == {DeliveryStatus.PENDING}
    assert len({row.public_id for row in rows}) == 4


def test_a_failure_after_queueing_stores_neither_submission_nor_deliveries(mail_app, receiver):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    set_recipients(mail_app, form_id, "team@example.org")
    add_webhook(mail_app, form_id, receiver.url)

    def explode(_form, **_extra):
        raise RuntimeError("disk full")

    submission_accepted.connect(explode)  # runs after the outbox's receiver
    try:
        with pytest.raises(RuntimeError, match="disk full"):
            submit_answers(mail_app, form_id, {"name": "Ann"})
    finally:
        submission_accepted.disconnect(explode)
    assert count_rows(mail_app, Submission) == 0
    assert count_rows(mail_app, Delivery) == 0


# --- claims ------------------------------------------------------------------------------------


def test_a_claim_takes_one_due_delivery_under_a_lease(app):
    ids = queue_emails(app, 3)
    clock = Clock()
    with app.app_context():
        claimed = outbox.claim_next(LEASE, clock.now)
        assert claimed.id == ids[0]
        assert claimed.attempt == 1
        rows = {row.id: row for row in db.session.scalars(select(Delivery))}
        assert rows[ids[0]].status == DeliveryStatus.SENDING
        assert rows[ids[0]].lease_expires_at == clock.now + LEASE
        assert rows[ids[0]].claim_token == claimed.claim_token
        assert [rows[i].status for i in ids[1:]] == [DeliveryStatus.PENDING] * 2


def test_nothing_is_claimed_before_it_is_due(app):
    with app.app_context():
        outbox.queue(
            DeliveryKind.EMAIL,
            {"to": "a@example.org"},
            event="e",
            trigger=DeliveryTrigger.SYSTEM,
            now=Clock().advance(timedelta(minutes=5)),
        )
        db.session.commit()
        assert outbox.claim_next(LEASE) is None
        assert outbox.any_due() is False


def test_an_expired_lease_is_claimed_again_and_the_first_claim_cannot_settle(app):
    [delivery_id] = queue_emails(app, 1)
    clock = Clock()
    with app.app_context():
        first = outbox.claim_next(LEASE, clock.now)
        assert outbox.claim_next(LEASE, clock.advance(timedelta(seconds=59))) is None
        second = outbox.claim_next(LEASE, clock.advance(timedelta(seconds=2)))
        assert (second.id, second.attempt) == (delivery_id, 2)
        assert second.claim_token != first.claim_token

        late = outbox.record_outcome(
            first, SendResult(True), started_at=clock.now, duration_ms=5, now=clock.now
        )
        db.session.commit()
        assert late is False
        assert db.session.get(Delivery, delivery_id).status == DeliveryStatus.SENDING
        assert outbox.record_outcome(
            second, SendResult(True), started_at=clock.now, duration_ms=5, now=clock.now
        )
        db.session.commit()
        assert db.session.get(Delivery, delivery_id).status == DeliveryStatus.DELIVERED


def test_concurrent_claims_never_share_a_delivery(app):
    ids = queue_emails(app, 60)
    claimed: list[list[int]] = [[] for _ in range(6)]
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def claim_all(mine: list[int]) -> None:
        try:
            with app.app_context():  # its own session and connection
                start.wait()
                while (delivery := outbox.claim_next(LEASE)) is not None:
                    mine.append(delivery.id)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=claim_all, args=(mine,)) for mine in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    every = [delivery_id for mine in claimed for delivery_id in mine]
    assert sorted(every) == ids  # each claimed once, none left
    assert sum(1 for mine in claimed if mine) >= 2


def test_two_workers_racing_send_each_delivery_once(mail_app, receiver):
    from tests.delivery_helpers import Reply

    receiver.default = Reply(200, delay=0.02)
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    add_webhook(mail_app, form_id, receiver.url)
    for number in range(30):
        submit_answers(mail_app, form_id, {"name": f"Person {number}"})
    handled = [0, 0, 0]
    start = threading.Barrier(3)

    def work(index: int) -> None:
        start.wait()
        handled[index] = Worker(mail_app).run_once()

    threads = [threading.Thread(target=work, args=(index,)) for index in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(handled) == 30
    assert sum(1 for count in handled if count) >= 2, handled
    assert receiver.overlaps == []
    assert set(Counter(receiver.delivery_ids()).values()) == {1}
    rows = all_deliveries(mail_app)
    assert {(row.status, row.attempts) for row in rows} == {(DeliveryStatus.DELIVERED, 1)}


# --- a worker that dies --------------------------------------------------------------------------


def test_a_worker_killed_mid_delivery_leaves_it_to_be_sent_after_the_lease(
    mail_app, receiver, tmp_path
):
    form_id = make_form(mail_app, CONTACT_FIELDS).id
    add_webhook(mail_app, form_id, receiver.url)
    submit_answers(mail_app, form_id, {"name": "Ann"})
    [delivery] = all_deliveries(mail_app)
    receiver.hold = threading.Event()  # keep the worker's request open

    # A long lease, so a slow machine cannot see it run out early; the clock jumps instead.
    env = subprocess_env(
        mail_app, WEBHOOK_ALLOW_PRIVATE="1", WORKER_LEASE_SECONDS="60", WORKER_POLL_SECONDS="1"
    )
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*FLASK, "worker"], cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        assert receiver.arrived.wait(timeout=60), log_path.read_text()
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
    finally:
        stop(process)
    held, receiver.hold = receiver.hold, None
    held.set()

    [stuck] = all_deliveries(mail_app)
    assert (stuck.status, stuck.attempts) == (DeliveryStatus.SENDING, 1)
    assert attempts_of(mail_app, delivery.id) == []  # it died before writing anything
    assert run_worker(mail_app) == 0  # the lease still holds

    clock = Clock(stuck.lease_expires_at + timedelta(seconds=1))
    assert run_worker(mail_app, clock) == 1
    [sent] = all_deliveries(mail_app)
    assert (sent.status, sent.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert receiver.delivery_ids() == [delivery.public_id, delivery.public_id]
    [attempt] = attempts_of(mail_app, delivery.id)
    assert (attempt.number, attempt.succeeded) == (2, True)


def test_flask_worker_stops_cleanly_on_sigterm(app, tmp_path):
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*FLASK, "worker"],
            cwd=PROJECT_DIR,
            env=subprocess_env(app, WORKER_POLL_SECONDS="1"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while "worker started" not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        stop(process)
    assert "worker stopped" in log_path.read_text()


def test_flask_worker_once_sends_what_is_due_and_exits(mail_app, smtp_server):
    queue_emails(mail_app, 2)
    result = mail_app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "Handled 2 deliveries." in result.output
    assert len(smtp_server.messages) == 2


# --- the development server's thread -------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "params", "run_main", "expected"),
    [
        ("run", {"reload": False}, None, True),
        ("run", {"reload": None}, None, True),  # no --debug: no reloader
        ("run", {"reload": True}, None, False),  # the reloader's watching parent
        ("run", {"reload": True}, "true", True),  # the reloader's serving child
        ("worker", {}, None, False),
        ("routes", {}, None, False),
    ],
)
def test_only_the_process_flask_run_serves_from_runs_a_worker_thread(
    monkeypatch, command, params, run_main, expected
):
    from flask.cli import routes_command
    from flask.cli import run_command

    from app.cli.worker import worker_command

    commands = {"run": run_command, "worker": worker_command, "routes": routes_command}
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    if run_main:
        monkeypatch.setenv("WERKZEUG_RUN_MAIN", run_main)
    else:
        monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    assert served_by_flask_run() is False  # no command at all: gunicorn, tests
    with click.Context(commands[command], info_name=command) as context:
        context.params.update(params)
        assert served_by_flask_run() is expected


def test_importing_the_app_as_gunicorn_does_starts_no_worker_thread(tmp_path):
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
    }
    code = "import threading, wsgi; print(sorted(t.name for t in threading.enumerate()))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "formyard-worker" not in result.stdout


def test_the_development_server_sends_deliveries_by_itself(tmp_path, receiver):
    """`make run` needs no second process: `flask run` in development runs the worker loop."""
    database_url = f"sqlite:///{tmp_path / 'dev.sqlite3'}"
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "WORKER_POLL_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("FLASK_DEBUG", None)
    upgrade = subprocess.run(
        [*FLASK, "db", "upgrade"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True
    )
    assert upgrade.returncode == 0, upgrade.stderr

    from app import create_app

    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    form_id = make_form(app, CONTACT_FIELDS).id
    add_webhook(app, form_id, receiver.url)
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*FLASK, "run", "--port", str(free_port()), "--no-reload"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        submit_answers(app, form_id, {"name": "Ann"})
        assert receiver.arrived.wait(timeout=60), log_path.read_text()
    finally:
        stop(process)
        with app.app_context():
            db.engine.dispose()
    assert "worker started" in log_path.read_text()
    assert receiver.requests[0].json()["answers"]["name"] == "Ann"
