"""The outbox: deliveries are written with what caused them, then claimed and settled by workers.

A claim is one UPDATE that marks a due row as sending, with a lease and a fresh claim token.
On PostgreSQL its subquery takes the row ``FOR UPDATE SKIP LOCKED``, so workers pass over each
other's rows instead of queueing; SQLite runs one writing statement at a time, which makes the
same UPDATE atomic there. A row whose lease has run out (its worker died) is due again. Only
the holder of the current claim token may settle a row.
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_
from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from app.extensions import db
from app.models import Delivery
from app.models import DeliveryAttempt
from app.models import DeliveryKind
from app.models import DeliveryStatus
from app.models import DeliveryTrigger
from app.models.types import utcnow
from app.services.delivery.transport import SendResult

log = logging.getLogger("formyard.outbox")

# 30 s, doubling up to 4 h between tries: the 15th and last try comes about a day after the first.
FIRST_RETRY_DELAY = timedelta(seconds=30)
LONGEST_RETRY_DELAY = timedelta(hours=4)
MAX_ATTEMPTS = 15
RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class ClaimedDelivery:
    """What a worker needs to send a claimed delivery, read once so no transaction stays open
    while it talks to the network."""

    id: int
    public_id: str
    kind: DeliveryKind
    event: str
    trigger: DeliveryTrigger
    payload: dict[str, Any]
    endpoint_id: int | None
    form_id: int | None
    attempt: int
    max_attempts: int
    claim_token: str
    submission_id: int | None = None


def retry_delay(
    attempt: int, jitter: float | None = None, first: timedelta = FIRST_RETRY_DELAY
) -> timedelta:
    """How long to wait after failed try number ``attempt``; up to 10% more, so deliveries
    that failed together do not all come back at the same moment."""
    base = min(first * 2 ** (attempt - 1), LONGEST_RETRY_DELAY)
    return base * (1 + 0.1 * (random.random() if jitter is None else jitter))  # noqa: S311


def queue(
    kind: DeliveryKind,
    payload: dict[str, Any],
    *,
    event: str,
    trigger: DeliveryTrigger,
    form_id: int | None = None,
    submission_id: int | None = None,
    endpoint_id: int | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    now: datetime | None = None,
) -> Delivery:
    """Add a delivery to the current transaction; the caller commits it with its cause."""
    now = now or utcnow()
    delivery = Delivery(
        kind=kind,
        event=event,
        trigger=trigger,
        payload=payload,
        form_id=form_id,
        submission_id=submission_id,
        endpoint_id=endpoint_id,
        status=DeliveryStatus.PENDING,
        attempts=0,
        max_attempts=max_attempts,
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(delivery)
    return delivery


def _due(now: datetime):
    return or_(
        and_(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now),
        and_(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_expires_at <= now),
    )


def any_due(now: datetime | None = None) -> bool:
    """A cheap read, so idle workers do not take SQLite's write lock every poll."""
    found = db.session.scalar(select(exists().where(_due(now or utcnow()))))
    db.session.rollback()
    return bool(found)


def claim_next(lease: timedelta, now: datetime | None = None) -> ClaimedDelivery | None:
    """Claim the most overdue delivery for ``lease``, or None when nothing is due."""
    now = now or utcnow()
    token = uuid.uuid4().hex
    candidate = (
        select(Delivery.id)
        .where(_due(now))
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(1)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite ignores it and needs not
    )
    claimed_id = db.session.scalar(
        update(Delivery)
        # "= (subquery)", not "IN (subquery)": PostgreSQL runs an uncorrelated scalar
        # subquery once, while it may run an IN subquery again per row and so claim several.
        .where(Delivery.id == candidate.scalar_subquery(), _due(now))
        .values(
            status=DeliveryStatus.SENDING,
            claim_token=token,
            lease_expires_at=now + lease,
            attempts=Delivery.attempts + 1,
        )
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if claimed_id is None:
        return None
    claimed = _snapshot(claimed_id)
    db.session.rollback()  # end the read; the network call comes next
    return claimed


def _snapshot(delivery_id: int) -> ClaimedDelivery:
    row = db.session.get(Delivery, delivery_id, populate_existing=True)
    return ClaimedDelivery(
        id=row.id,
        public_id=row.public_id,
        kind=row.kind,
        event=row.event,
        trigger=row.trigger,
        payload=row.payload,
        endpoint_id=row.endpoint_id,
        form_id=row.form_id,
        attempt=row.attempts,
        max_attempts=row.max_attempts,
        claim_token=row.claim_token or "",
        submission_id=row.submission_id,
    )


def record_outcome(
    claimed: ClaimedDelivery,
    result: SendResult,
    *,
    started_at: datetime,
    duration_ms: int,
    now: datetime | None = None,
) -> bool:
    """Log the attempt and settle the delivery: delivered, due again later, or failed.

    Returns whether this worker still held the claim (False when its lease ran out and another
    worker took the delivery); the caller commits.
    """
    now = now or utcnow()
    db.session.add(
        DeliveryAttempt(
            delivery_id=claimed.id,
            number=claimed.attempt,
            started_at=started_at,
            duration_ms=duration_ms,
            succeeded=result.succeeded,
            status_code=result.status_code,
            error=result.error,
            response_excerpt=result.response_excerpt,
        )
    )
    owned = db.session.execute(
        update(Delivery)
        .where(Delivery.id == claimed.id, Delivery.claim_token == claimed.claim_token)
        .values(**_settlement(claimed, result, now))
        .execution_options(synchronize_session=False)
    ).rowcount
    if not owned:
        log.warning("delivery %s was taken by another worker after its lease", claimed.public_id)
    return bool(owned)


def _settlement(claimed: ClaimedDelivery, result: SendResult, now: datetime) -> dict[str, Any]:
    released = {"claim_token": None, "lease_expires_at": None}
    if result.succeeded or result.permanent or claimed.attempt >= claimed.max_attempts:
        settled = {
            **released,
            "status": DeliveryStatus.DELIVERED if result.succeeded else DeliveryStatus.FAILED,
            "completed_at": now,
            "last_error": result.error,
        }
        if claimed.payload.get("sensitive"):
            # A sign-in link has no business staying in the database once it is sent.
            settled["payload"] = {key: claimed.payload.get(key) for key in ("to", "subject")}
        return settled
    return {
        **released,
        "status": DeliveryStatus.PENDING,
        "next_attempt_at": now + retry_delay(claimed.attempt, first=_first_retry_delay()),
        "last_error": result.error,
    }


def _first_retry_delay() -> timedelta:
    seconds = current_app.config.get("WORKER_FIRST_RETRY_SECONDS")
    return FIRST_RETRY_DELAY if seconds is None else timedelta(seconds=seconds)


def fail_pending(endpoint_id: int, reason: str, now: datetime | None = None) -> int:
    """Give up on an endpoint's waiting deliveries (it was disabled); returns how many."""
    result = db.session.execute(
        update(Delivery)
        .where(Delivery.endpoint_id == endpoint_id, Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.FAILED, completed_at=now or utcnow(), last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def skip(claimed: ClaimedDelivery, reason: str, now: datetime | None = None) -> None:
    """Settle a claimed delivery as failed without trying it (its endpoint is gone or off)."""
    db.session.execute(
        update(Delivery)
        .where(Delivery.id == claimed.id, Delivery.claim_token == claimed.claim_token)
        .values(
            status=DeliveryStatus.FAILED,
            completed_at=now or utcnow(),
            last_error=reason,
            claim_token=None,
            lease_expires_at=None,
            attempts=Delivery.attempts - 1,  # nothing was tried
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def copy_for_redelivery(original: Delivery) -> Delivery:
    """A new delivery with the same body and a new id, tried once: a person asked for it."""
    return queue(
        original.kind,
        dict(original.payload),
        event=original.event,
        trigger=DeliveryTrigger.REDELIVERY,
        form_id=original.form_id,
        submission_id=original.submission_id,
        endpoint_id=original.endpoint_id,
        max_attempts=1,
    )


def purge_finished(now: datetime | None = None) -> int:
    """Delete deliveries settled more than RETENTION ago (their attempts go with them)."""
    cutoff = (now or utcnow()) - RETENTION
    result = db.session.execute(
        delete(Delivery)
        .where(Delivery.completed_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount or 0
