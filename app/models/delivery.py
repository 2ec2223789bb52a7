"""What a submission (or an account event) sends out: email settings per form, webhook
endpoints, and the outbox of deliveries with a log of every attempt."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from app.extensions import db
from app.models.types import BigId
from app.models.types import JSONType
from app.models.types import UTCDateTime
from app.models.types import enum_type
from app.models.types import utcnow

MAX_RECIPIENTS = 10
FAILURES_BEFORE_DISABLING = 20
# ...over at least this long: a receiver down for a minute while many deliveries wait for it
# fails 20 in a row within seconds, and is not dead.
FAILING_TIME_BEFORE_DISABLING = timedelta(hours=1)


def new_public_id() -> str:
    return str(uuid.uuid4())


class FormNotification(db.Model):
    """Who hears about a form's new submissions by email, and the optional reply to the
    respondent. No row means nobody is emailed."""

    __tablename__ = "form_notifications"

    form_id: Mapped[int] = mapped_column(
        ForeignKey("forms.id", ondelete="CASCADE"), primary_key=True
    )
    recipients: Mapped[list[str]] = mapped_column(JSONType, default=list)
    autoresponder_enabled: Mapped[bool] = mapped_column(default=False)
    autoresponder_subject: Mapped[str] = mapped_column(String(200), default="")
    # Markdown, written by an editor; sent as text and as sanitised HTML.
    autoresponder_message: Mapped[str] = mapped_column(Text, default="")
    autoresponder_include_answers: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WebhookPreset(enum.StrEnum):
    """How the JSON body is shaped: Formyard's own, or what a chat's incoming webhook wants."""

    GENERIC = "generic"
    SLACK = "slack"
    DISCORD = "discord"


class WebhookEndpoint(db.Model):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    preset: Mapped[WebhookPreset] = mapped_column(
        enum_type(WebhookPreset), default=WebhookPreset.GENERIC
    )
    # Signs every request; kept as is because signing needs it, shown to people only once.
    secret: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    # Failed attempts since the last success; at FAILURES_BEFORE_DISABLING it is disabled.
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def display_url(self) -> str:
        """The URL without its query string, where some receivers take a token."""
        return self.url.split("?", 1)[0]


class DeliveryKind(enum.StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for next_attempt_at
    SENDING = "sending"  # claimed by a worker until lease_expires_at
    DELIVERED = "delivered"
    FAILED = "failed"  # out of attempts, or its endpoint was disabled


class DeliveryTrigger(enum.StrEnum):
    SUBMISSION = "submission"
    TEST = "test"
    REDELIVERY = "redelivery"
    ACCOUNT = "account"  # password reset, invitation
    SYSTEM = "system"  # telling an owner their endpoint was disabled


class Delivery(db.Model):
    """One email or webhook call in the outbox, written in the transaction that caused it.

    Workers claim due rows with a lease; a worker that dies leaves the lease to expire, and
    another takes the row again. Sending is at least once: ``public_id`` travels with every
    attempt (webhook header, email Message-ID) so receivers can drop duplicates.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        # The workers' query: due rows by status and time.
        Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        # An endpoint's log, newest first.
        Index("ix_deliveries_endpoint_id_id", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    kind: Mapped[DeliveryKind] = mapped_column(enum_type(DeliveryKind))
    event: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[DeliveryTrigger] = mapped_column(enum_type(DeliveryTrigger))
    form_id: Mapped[int | None] = mapped_column(
        ForeignKey("forms.id", ondelete="CASCADE"), index=True
    )
    submission_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    # Email: to, subject, text, html, reply_to. Webhook: the JSON body, rendered once so
    # every retry sends the same bytes.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_type(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int]
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by each claim; only the holder of the current claim may record the outcome.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryAttempt(db.Model):
    """One try at sending a delivery: the endpoint's log shows these."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_ms: Mapped[int]
    succeeded: Mapped[bool]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))
    response_excerpt: Mapped[str | None] = mapped_column(Text)


class WorkerHeartbeat(db.Model):
    """When each worker process last went round its loop, so any web process can tell whether
    deliveries are being sent."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)  # host:pid
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
