"""Submissions (the answers someone sent) and the files they uploaded."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy import and_
from sqlalchemy import not_
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import deferred
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db
from app.models.types import BigId
from app.models.types import JSONType
from app.models.types import UTCDateTime
from app.models.types import utcnow

if TYPE_CHECKING:
    from app.models.tag import SubmissionNote
    from app.models.tag import Tag


class SpamReason(enum.StrEnum):
    HONEYPOT = "honeypot"
    RATE = "rate"
    RULE = "rule"
    SCORE = "score"  # its spam score reached the form's threshold (spam_reasons say why)
    MANUAL = "manual"  # an admin marked it from the inbox


class Submission(db.Model):
    __tablename__ = "submissions"
    __table_args__ = (
        # A double click or a client's retry carries the same key: stored once.
        UniqueConstraint("form_id", "idempotency_key"),
        # Newest-first keyset pagination within a form.
        Index("ix_submissions_form_id_created_at_id", "form_id", "created_at", "id"),
        # Ids are never reused on SQLite either: receivers deduplicate by them.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"))
    # None for a static-site endpoint, which has no builder fields.
    version_id: Mapped[int | None] = mapped_column(ForeignKey("form_versions.id"))
    # Answers by field key, as the field types store them.
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # Endpoint conventions (_subject, _replyto, _cc, _next) and request details.
    meta: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # SHA-256 of the request stored under the key (app/services/submissions/idempotency.py):
    # the same key with another body is refused rather than answered as a repeat.
    idempotency_fingerprint: Mapped[str | None] = mapped_column(String(64))
    is_spam: Mapped[bool] = mapped_column(default=False)
    spam_reason: Mapped[str | None] = mapped_column(String(32))
    # The signals a public post carried and their summed weight (app/services/spam); None for
    # posts that are not scored (the API's) and those stored before scores.
    spam_score: Mapped[int | None]
    spam_reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    is_read: Mapped[bool] = mapped_column(default=False)
    is_starred: Mapped[bool] = mapped_column(default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Whether the summary rollups reflect this row (counted there if neither spam nor in the
    # trash). A post stores it False and leaves the counting to a batch: the summary page and
    # the worker bring the rollups up to date (app/services/inbox/rollups.py).
    summarized: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The team's private note, if one was written (app/services/inbox/tagging.py).
    note: Mapped[SubmissionNote | None] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    tags: Mapped[list[Tag]] = relationship(
        secondary="submission_tags", order_by="Tag.name", viewonly=True
    )

    @classmethod
    def locked_in_id_order(cls, *conditions: Any) -> ColumnElement[bool]:
        """``id IN (...)`` for the rows that meet ``conditions``, locked in id order first.

        For statements that change many rows at once (the summary batch, bulk inbox actions).
        PostgreSQL locks the rows an UPDATE changes in the order its plan reads them, and an
        edited row moves in the table, so two such statements could each hold a row the other
        waits for (a deadlock, and one of them fails). Locking in id order first, every one of
        them waits its turn instead. ``FOR NO KEY UPDATE`` is the lock the UPDATE itself takes,
        so rows that refer to these (files, deliveries) can still be written meanwhile. SQLite
        has one writer at a time and no such clause.
        """
        locked = select(cls.id).where(*conditions).order_by(cls.id)
        locked = locked.with_for_update(key_share=True)  # FOR NO KEY UPDATE
        return cls.id.in_(locked)


def _folder_index(name: str, condition) -> Index:
    """A partial index for a small folder of the inbox, in the same newest-first order as the
    main one, so that listing it reads only its own rows however large the form is."""
    table = Submission.__table__
    return Index(
        name,
        table.c.form_id,
        table.c.created_at,
        table.c.id,
        sqlite_where=condition,
        postgresql_where=condition,
    )


_table = Submission.__table__
# The spam folder, the trash and starred rows are few; the unread ones are the inbox's
# "new" rows, counted per form on /inbox. The predicates are written as the inbox service
# writes its filters, so both databases see that the index applies.
_folder_index("ix_submissions_spam", _table.c.is_spam)
_folder_index("ix_submissions_trash", _table.c.deleted_at.is_not(None))
_folder_index("ix_submissions_starred", _table.c.is_starred)
# The few rows the summary rollups have not counted yet, found without reading the rest.
Index(
    "ix_submissions_unsummarized",
    _table.c.form_id,
    sqlite_where=not_(_table.c.summarized),
    postgresql_where=not_(_table.c.summarized),
)
_folder_index(
    "ix_submissions_unread",
    and_(not_(_table.c.is_read), not_(_table.c.is_spam), _table.c.deleted_at.is_(None)),
)


class IdempotencyClaim(db.Model):
    """A request with a client's Idempotency-Key, from its start until its submission is
    stored or refused: another request with the key meanwhile is told it is in flight."""

    __tablename__ = "idempotency_claims"

    form_id: Mapped[int] = mapped_column(
        ForeignKey("forms.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StoredFile(db.Model):
    """An uploaded file. The default backend keeps the bytes here, so a PaaS needs no disk;
    ``backend`` and ``storage_key`` leave room for an object store."""

    __tablename__ = "stored_files"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    field_key: Mapped[str] = mapped_column(String(63))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    backend: Mapped[str] = mapped_column(String(20), default="database")
    storage_key: Mapped[str | None] = mapped_column(String(500))
    data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The search index's DDL hooks onto the submissions table; imported last, it sees the table.
from app.models import search_index  # noqa: E402,F401
