"""The audit log: who did what, when, to what, and whether it was allowed."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from app.extensions import db
from app.models.types import BigId
from app.models.types import JSONType
from app.models.types import UTCDateTime
from app.models.types import enum_type
from app.models.types import utcnow


class ActorKind(enum.StrEnum):
    USER = "user"  # signed in to the pages
    TOKEN = "token"  # noqa: S105 -- a script with a person's API token
    SYSTEM = "system"  # the worker, a command, or nobody signed in


class Outcome(enum.StrEnum):
    OK = "ok"
    REFUSED = "refused"


class AuditEntry(db.Model):
    """One recorded action, written in the transaction of the change it records.

    ``actor_label`` and ``target_label`` are copied when the entry is written, so the entry
    still says who and what after the user or form is gone. ``details`` holds ids, counts and
    setting names, never answers: erasing a person's answers leaves nothing of them here.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (
        # The page's filters, newest first (keyset on id).
        Index("ix_audit_entries_action_id", "action", "id"),
        Index("ix_audit_entries_form_id_id", "form_id", "id"),
        Index("ix_audit_entries_actor_user_id_id", "actor_user_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_kind: Mapped[ActorKind] = mapped_column(enum_type(ActorKind))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(60))
    target_kind: Mapped[str | None] = mapped_column(String(30))
    target_id: Mapped[str | None] = mapped_column(String(64))
    target_label: Mapped[str] = mapped_column(String(300), default="")
    # The form the action concerns, if any, for the page's form filter; no foreign key, so
    # the entry outlives the form.
    form_id: Mapped[int | None]
    outcome: Mapped[Outcome] = mapped_column(enum_type(Outcome), default=Outcome.OK)
    address: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
