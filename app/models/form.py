"""Forms, their immutable published versions, and what the static-site endpoint has seen."""

from __future__ import annotations

import enum
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import false
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from app.extensions import db
from app.fields.filekinds import ENDPOINT_DEFAULT_KINDS
from app.fields.spec import FieldSpec
from app.flow.pages import Flow
from app.models.types import JSONType
from app.models.types import UTCDateTime
from app.models.types import enum_type
from app.models.types import utcnow

TRASH_DAYS = 30
SCHEMA_VERSION = 1


class FormStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class FormKind(enum.StrEnum):
    BUILT = "built"  # fields made in the builder
    ENDPOINT = "endpoint"  # any website posts its own HTML form; every field is kept


class Availability(enum.StrEnum):
    """Why a form does or does not take submissions right now."""

    OPEN = "open"
    DRAFT = "draft"
    CLOSED = "closed"
    EXPIRED = "expired"
    FULL = "full"
    DELETED = "deleted"


class Form(db.Model):
    __tablename__ = "forms"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[FormKind] = mapped_column(enum_type(FormKind), default=FormKind.BUILT)
    status: Mapped[FormStatus] = mapped_column(enum_type(FormStatus), default=FormStatus.DRAFT)
    # The fields being edited; publishing copies them into a new FormVersion.
    draft_fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # Conditions named once and used by name (app/flow); a draft's pages are its page breaks.
    draft_conditions: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    has_unpublished_changes: Mapped[bool] = mapped_column(default=True)
    published_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("form_versions.id", use_alter=True, ondelete="SET NULL")
    )

    # Settings.
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    max_responses: Mapped[int | None]
    confirmation_message: Mapped[str] = mapped_column(Text, default="")
    redirect_url: Mapped[str | None] = mapped_column(String(2000))
    submit_label: Mapped[str] = mapped_column(String(100), default="Submit")
    one_response_per_browser: Mapped[bool] = mapped_column(default=False)
    # Origins ("https://example.org") that may post to the form and embed it.
    allowed_origins: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Respondents may save and resume from a link, valid for resume_days.
    allow_saving: Mapped[bool] = mapped_column(default=False, server_default=false())
    resume_days: Mapped[int] = mapped_column(default=30, server_default=text("30"))
    # Display: every question on a page of its own; a "check your answers" page before the
    # final submit. Both lead respondents page by page (app/services/submissions/paging.py).
    one_question_per_page: Mapped[bool] = mapped_column(default=False, server_default=false())
    check_answers: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Kinds of file (app/fields/filekinds.py) a static-site form keeps.
    endpoint_file_kinds: Mapped[list[str]] = mapped_column(
        JSONType, default=lambda: list(ENDPOINT_DEFAULT_KINDS)
    )

    # Submissions older than this many days are deleted by the worker; None: the site's
    # RETENTION_DAYS, and keep them when that is unset too.
    retention_days: Mapped[int | None]
    # Delete each submission once every email and webhook call for it has been delivered.
    forward_only: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Spam: a public post whose spam score reaches the threshold goes to the Spam folder; with
    # proof of work required, a post without a solution is refused (app/services/spam).
    spam_threshold: Mapped[int] = mapped_column(default=50, server_default=text("50"))
    require_proof_of_work: Mapped[bool] = mapped_column(default=False, server_default=false())

    # Kept up to date by the submission service, so lists and limits need no COUNT(*).
    submission_count: Mapped[int] = mapped_column(default=0)
    last_submission_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    published_version: Mapped[FormVersion | None] = relationship(
        foreign_keys=[published_version_id], post_update=True
    )

    @property
    def draft_specs(self) -> list[FieldSpec]:
        return [FieldSpec.from_dict(item) for item in self.draft_fields]

    @property
    def is_endpoint(self) -> bool:
        return self.kind == FormKind.ENDPOINT

    @property
    def in_trash(self) -> bool:
        return self.deleted_at is not None

    @property
    def purge_after(self) -> datetime | None:
        return self.deleted_at + timedelta(days=TRASH_DAYS) if self.deleted_at else None

    def availability(self, now: datetime | None = None) -> Availability:
        now = now or utcnow()
        if self.deleted_at is not None:
            return Availability.DELETED
        if self.status == FormStatus.DRAFT or (
            not self.is_endpoint and self.published_version_id is None
        ):
            return Availability.DRAFT
        if self.status == FormStatus.CLOSED:
            return Availability.CLOSED
        if self.closes_at is not None and self.closes_at <= now:
            return Availability.EXPIRED
        if self.max_responses is not None and self.submission_count >= self.max_responses:
            return Availability.FULL
        return Availability.OPEN

    def allows_origin(self, origin: str | None) -> bool:
        """Whether a page of the website ``origin`` may post here (and, for built forms, embed
        the form). A static-site endpoint takes posts from any website unless its editor lists
        some, as Formspree's do; a built form only from those listed."""
        if not origin:
            return False
        if self.is_endpoint and not self.allowed_origins:
            return True
        return origin.rstrip("/").lower() in self.allowed_origins

    def __repr__(self) -> str:
        return f"<Form {self.slug}>"


class FormVersion(db.Model):
    """What respondents saw: frozen at publish time and never changed afterwards."""

    __tablename__ = "form_versions"
    # AUTOINCREMENT: SQLite would otherwise reuse the id of a purged version, and caches of
    # parsed versions are keyed by id.
    __table_args__ = (UniqueConstraint("form_id", "number"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # {"schema_version": 1, "fields": [FieldSpec dicts], "pages": [...] | null, "conditions":
    # {...} | null}: pages and conditions as app/flow reads them; absent or null, one page.
    schema: Mapped[dict[str, Any]] = mapped_column(JSONType)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def specs(self) -> list[FieldSpec]:
        return [FieldSpec.from_dict(item) for item in self.schema.get("fields", [])]

    @property
    def flow(self) -> Flow:
        """The version's pages and conditions; a link's hidden values are always kept."""
        hidden = [item["key"] for item in self.schema.get("fields", []) if item["type"] == "hidden"]
        return Flow.from_schema(self.schema, always_kept=hidden)


class EndpointKey(db.Model):
    """A field name a static-site form has posted; the inbox shows one column per key."""

    __tablename__ = "endpoint_keys"

    form_id: Mapped[int] = mapped_column(
        ForeignKey("forms.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FormViewCount(db.Model):
    """How often the public page was shown, per form and hour (UTC): with the submissions of
    the same hours it gives the completion rate. Written in batches by
    services.forms.view_counts."""

    __tablename__ = "form_view_counts"

    form_id: Mapped[int] = mapped_column(
        ForeignKey("forms.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    views: Mapped[int] = mapped_column(default=0)
