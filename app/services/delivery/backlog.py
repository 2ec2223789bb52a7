"""How the outbox is doing, for /readyz, /metrics and the inbox's banner: what waits, for how
long, and when a worker was last seen. Read from the database, so every process agrees."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.database import is_postgresql
from app.extensions import db
from app.models import Delivery
from app.models import DeliveryKind
from app.models import DeliveryStatus
from app.models import WorkerHeartbeat
from app.models.types import utcnow

# Deliveries due this long ago and still unsent mean no worker is sending: the inbox says so.
STUCK_AFTER = timedelta(minutes=10)
HEARTBEAT_RETENTION = timedelta(days=1)
UNSENT = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


@dataclass(frozen=True)
class OutboxState:
    depth: int  # deliveries not yet sent nor given up
    oldest_created_at: datetime | None  # the oldest of those, however often it was retried
    oldest_due_at: datetime | None  # the longest overdue: a running worker keeps this recent
    failed: int  # deliveries given up on, kept 30 days
    now: datetime

    def oldest_age(self) -> float | None:
        return _seconds_since(self.oldest_created_at, self.now)

    def overdue_for(self) -> float | None:
        return _seconds_since(self.oldest_due_at, self.now)

    def stuck_since(self) -> datetime | None:
        """When the longest overdue delivery fell due, if that is over STUCK_AFTER ago."""
        if self.oldest_due_at is not None and self.now - self.oldest_due_at > STUCK_AFTER:
            return self.oldest_due_at
        return None


def _seconds_since(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else max(0.0, (now - moment).total_seconds())


def outbox_state(now: datetime | None = None) -> OutboxState:
    """A few aggregate queries over the rows of the (status, next_attempt_at) index."""
    now = now or utcnow()
    unsent = Delivery.status.in_(UNSENT)
    depth, oldest = db.session.execute(
        select(func.count(Delivery.id), func.min(Delivery.created_at)).where(unsent)
    ).one()
    failed = db.session.scalar(
        select(func.count(Delivery.id)).where(Delivery.status == DeliveryStatus.FAILED)
    )
    return OutboxState(depth, oldest, overdue_since(now), failed or 0, now)


def overdue_since(now: datetime) -> datetime | None:
    """When the longest overdue delivery fell due (or its worker's lease ran out), or None."""
    due_since = db.session.scalar(
        select(func.min(Delivery.next_attempt_at)).where(
            Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now
        )
    )
    leases_out = db.session.scalar(
        select(func.min(Delivery.lease_expires_at)).where(
            Delivery.status == DeliveryStatus.SENDING, Delivery.lease_expires_at <= now
        )
    )
    return min((m for m in (due_since, leases_out) if m is not None), default=None)


def stuck_since(now: datetime | None = None) -> datetime | None:
    """When deliveries began waiting with no worker sending them, if over STUCK_AFTER ago."""
    now = now or utcnow()
    since = overdue_since(now)
    return since if since is not None and now - since > STUCK_AFTER else None


def failed_by_kind() -> dict[DeliveryKind, int]:
    query = (
        select(Delivery.kind, func.count(Delivery.id))
        .where(Delivery.status == DeliveryStatus.FAILED)
        .group_by(Delivery.kind)
    )
    counts = dict.fromkeys(DeliveryKind, 0)
    counts.update(dict(db.session.execute(query).tuples().all()))
    return counts


# --- worker heartbeats -------------------------------------------------------------------------


def this_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def record_heartbeat(name: str, started_at: datetime, now: datetime | None = None) -> None:
    """Note that worker ``name`` is alive; commits."""
    now = now or utcnow()
    # One statement, so workers sharing a name (threads of one process) never race an insert.
    insert = postgresql_insert if is_postgresql() else sqlite_insert
    statement = insert(WorkerHeartbeat).values(name=name, started_at=started_at, seen_at=now)
    db.session.execute(
        statement.on_conflict_do_update(index_elements=["name"], set_={"seen_at": now})
    )
    db.session.execute(
        delete(WorkerHeartbeat).where(WorkerHeartbeat.seen_at < now - HEARTBEAT_RETENTION)
    )
    db.session.commit()


def last_heartbeat() -> datetime | None:
    """When any worker was last seen (within a day), or None."""
    return db.session.scalar(select(func.max(WorkerHeartbeat.seen_at)))
