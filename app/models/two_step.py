"""What two-step verification keeps besides the user's own columns: recovery codes, and the
site's policy of who must use it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from app.extensions import db
from app.models.types import UTCDateTime
from app.models.types import utcnow


class RecoveryCode(db.Model):
    """One single-use code that stands in for the second step when the authenticator is lost."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the normalised code, in hex; see app/services/accounts/recovery_codes.py.
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TwoStepPolicy(enum.StrEnum):
    """Who must use two-step verification, from nobody to everyone."""

    OPTIONAL = "optional"
    OWNERS_AND_EDITORS = "owners_editors"
    EVERYONE = "everyone"


class SiteSetting(db.Model):
    """A setting of the whole site that the owner changes in the app, by name."""

    __tablename__ = "site_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
