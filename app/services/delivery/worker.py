"""The loop that sends what is in the outbox: ``flask worker``, or a thread of ``flask run`` in
development. Any number may run at once; the outbox's claims keep them apart."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import DeliveryKind
from app.models import DeliveryTrigger
from app.models import WebhookEndpoint
from app.models.types import utcnow
from app.ops.counters import count
from app.services import retention
from app.services.audit.reading import purge_older_than
from app.services.audit.recording import acting_as
from app.services.audit.recording import system_actor
from app.services.delivery import backlog
from app.services.delivery import mail
from app.services.delivery import notifications
from app.services.delivery import outbox
from app.services.delivery import webhooks
from app.services.delivery.outbox import ClaimedDelivery
from app.services.delivery.transport import SendResult
from app.services.inbox import rollups
from app.services.submissions import paging
from app.services.submissions import search

log = logging.getLogger("formyard.worker")

Clock = Callable[[], datetime]
PURGE_EVERY = timedelta(hours=1)
RETENTION_EVERY = timedelta(days=1)
WORKER = system_actor("worker")
# SQLite's search index and the summary rollups are brought up to date before a search or a
# summary; doing it now and then here too keeps those quick after a busy day.
CATCH_UP_EVERY = timedelta(minutes=1)
# Often enough that /metrics and the inbox see a stopped worker within a minute.
HEARTBEAT_EVERY = timedelta(seconds=15)


class Worker:
    """Claims due deliveries one at a time and sends them. ``clock`` is injectable, so tests
    can step through a day of retries without waiting for it."""

    def __init__(
        self,
        app: Flask,
        *,
        clock: Clock = utcnow,
        lease: timedelta | None = None,
        poll_seconds: float | None = None,
    ) -> None:
        self.app = app
        self.clock = clock
        self.lease = lease or timedelta(seconds=app.config["WORKER_LEASE_SECONDS"])
        self.poll_seconds = (
            app.config["WORKER_POLL_SECONDS"] if poll_seconds is None else poll_seconds
        )
        self.next_purge_at: datetime | None = None
        self.next_catch_up_at: datetime | None = None
        self.name = backlog.this_worker_name()
        self.started_at: datetime | None = None
        self.next_heartbeat_at: datetime | None = None
        self.next_retention_at: datetime | None = None

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set, resting ``poll_seconds`` whenever nothing is due."""
        log.info("worker started (lease %ss)", int(self.lease.total_seconds()))
        while not stop.is_set():
            try:
                sent = self.run_once()
            except Exception:  # a database blip must not end the worker
                log.exception("worker loop failed; trying again shortly")
                sent = 0
            if sent == 0:
                stop.wait(self.poll_seconds)
        log.info("worker stopped")

    def run_once(self, limit: int = 100) -> int:
        """Send up to ``limit`` due deliveries; returns how many were handled."""
        handled = 0
        with self.app.app_context(), acting_as(WORKER):
            self._beat_now_and_then()
            self._purge_now_and_then()
            self._retain_daily()
            self._catch_up_now_and_then()
            if not outbox.any_due(self.clock()):
                return 0
            while handled < limit:
                claimed = outbox.claim_next(self.lease, self.clock())
                if claimed is None:
                    break
                self.process(claimed)
                handled += 1
        return handled

    def process(self, claimed: ClaimedDelivery) -> None:
        started_at = self.clock()
        began = time.monotonic()
        try:
            result = self._send(claimed)
        except Exception as error:  # a bug in one delivery must not stop the others
            log.exception("delivery %s failed unexpectedly", claimed.public_id)
            result = SendResult.failure(f"Internal error: {error.__class__.__name__}")
        if result is None:
            return
        duration_ms = int((time.monotonic() - began) * 1000)
        self._settle(claimed, result, started_at, duration_ms)

    def _send(self, claimed: ClaimedDelivery) -> SendResult | None:
        if claimed.kind == DeliveryKind.EMAIL:
            return mail.send_message(mail.build_message(claimed.payload, claimed.public_id))
        endpoint = db.session.get(WebhookEndpoint, claimed.endpoint_id)
        if endpoint is not None:
            db.session.expunge(endpoint)  # keep what was read...
        db.session.rollback()  # ...and hold no transaction open during the call
        if endpoint is None:
            outbox.skip(claimed, "The webhook was deleted.", self.clock())
            return None
        if not endpoint.enabled and claimed.trigger == DeliveryTrigger.SUBMISSION:
            outbox.skip(claimed, "The webhook is disabled.", self.clock())
            return None
        return webhooks.send(endpoint, claimed.public_id, claimed.event, claimed.payload)

    def _settle(
        self, claimed: ClaimedDelivery, result: SendResult, started_at: datetime, duration_ms: int
    ) -> None:
        now = self.clock()
        owned = outbox.record_outcome(
            claimed, result, started_at=started_at, duration_ms=duration_ms, now=now
        )
        endpoint_id = claimed.endpoint_id
        if (
            owned
            and endpoint_id is not None
            and webhooks.note_result(endpoint_id, result.succeeded, now)
        ):
            notifications.queue_webhook_disabled_email(endpoint_id)
        if owned and result.succeeded and claimed.submission_id is not None:
            retention.forget_if_forwarded(claimed.submission_id)
        db.session.commit()
        if not result.succeeded:
            count("delivery_failures", claimed.kind.value, self.app)
        outcome = "sent" if result.succeeded else f"failed ({result.error})"
        log.info(
            "%s %s %s attempt %s: %s",
            claimed.kind.value,
            claimed.event,
            claimed.public_id,
            claimed.attempt,
            outcome,
        )

    def _beat_now_and_then(self) -> None:
        now = self.clock()
        if self.next_heartbeat_at is None or now >= self.next_heartbeat_at:
            self.started_at = self.started_at or now
            self.next_heartbeat_at = now + HEARTBEAT_EVERY
            try:
                backlog.record_heartbeat(self.name, self.started_at, now)
            except SQLAlchemyError:
                # A missed heartbeat only makes /readyz look older; sending goes on.
                db.session.rollback()
                log.warning("could not record the worker's heartbeat", exc_info=True)

    def _purge_now_and_then(self) -> None:
        now = self.clock()
        if self.next_purge_at is None or now >= self.next_purge_at:
            removed = outbox.purge_finished(now)
            if removed:
                log.info("removed %s deliveries settled over 30 days ago", removed)
            expired = paging.purge_expired(now)
            if expired:
                log.info("removed %s partial responses past their expiry", expired)
            self.next_purge_at = now + PURGE_EVERY

    def _retain_daily(self) -> None:
        now = self.clock()
        if self.next_retention_at is None:
            last = retention.last_run_at()
            self.next_retention_at = last + RETENTION_EVERY if last else now
        if now < self.next_retention_at:
            return
        counts = retention.run(now)
        if counts.submissions or counts.trashed_submissions or counts.trashed_forms:
            log.info("retention deleted %s", counts)
        audit_days = self.app.config["AUDIT_RETENTION_DAYS"]
        if audit_days > 0 and (removed := purge_older_than(audit_days, now)):
            log.info("removed %s audit entries over %s days old", removed, audit_days)
        self.next_retention_at = now + RETENTION_EVERY

    def _catch_up_now_and_then(self) -> None:
        now = self.clock()
        if self.next_catch_up_at is None or now >= self.next_catch_up_at:
            search.index_new_submissions()
            if rollups.catch_up():
                db.session.commit()
            self.next_catch_up_at = now + CATCH_UP_EVERY


def start_in_thread(app: Flask) -> threading.Thread:
    """Run a worker in a daemon thread of this process (the development server's)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=Worker(app).run, args=(stop,), name="formyard-worker", daemon=True
    )
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread
