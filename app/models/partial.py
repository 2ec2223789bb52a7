"""Partial responses: the answers of someone still filling in a form."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import false
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from app.extensions import db
from app.models.types import BigId
from app.models.types import JSONType
from app.models.types import UTCDateTime
from app.models.types import utcnow


class PartialResponse(db.Model):
    """Answers kept on the server between a multi-page form's pages, and for resuming from a
    link. Pinned to the version it started on, so a version published meanwhile does not
    change this respondent's form. Never notified nor sent to webhooks; it becomes a
    submission on the final submit, and is purged by the worker once it expires."""

    __tablename__ = "partial_responses"
    __table_args__ = (
        # The In progress folder: newest first, by keyset.
        Index("ix_partial_responses_form_id_updated_at_id", "form_id", "updated_at", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("form_versions.id", ondelete="CASCADE"))
    # Answers by field key, as the field types store them, of every page answered so far.
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # The pages shown so far, in order; the last is where the respondent is.
    path: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Pinned like the version: the form's "one question at a time" setting when it started.
    one_question_per_page: Mapped[bool] = mapped_column(default=False, server_default=false())
    # SHA-256 of the random tokens that find it: the browser's cookie, and the resume link.
    browser_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    resume_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    @property
    def page_id(self) -> str | None:
        return self.path[-1] if self.path else None
