"""Triage: a form's tags and which submissions carry them; a private note on a submission."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from app.extensions import db
from app.models.types import BigId
from app.models.types import UTCDateTime
from app.models.user import User


class Tag(db.Model):
    """A label on a form's submissions; kept once made, so it stays among the suggestions
    only while a submission carries it (see app/services/inbox/tagging.py)."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("form_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(30))


class SubmissionTag(db.Model):
    __tablename__ = "submission_tags"
    __table_args__ = (
        # The inbox's tag filter reads the submissions of one tag from this index.
        Index("ix_submission_tags_tag_id_submission_id", "tag_id", "submission_id"),
    )

    submission_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)


class SubmissionNote(db.Model):
    """The team's private note on a submission (plain text), and who last changed it when.
    A table of its own, so the submissions table, read by every list and export, stays narrow."""

    __tablename__ = "submission_notes"

    submission_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    text: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_by: Mapped[User | None] = relationship()
