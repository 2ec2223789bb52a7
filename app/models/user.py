"""People who log in: owners, editors and viewers."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger
from sqlalchemy import String
from sqlalchemy import func
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import validates

from app.extensions import db
from app.models.types import UTCDateTime
from app.models.types import enum_type
from app.models.types import utcnow


class Role(enum.StrEnum):
    """Roles in increasing power; each includes what the ones before it may do."""

    VIEWER = "viewer"
    EDITOR = "editor"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def includes(self, other: Role) -> bool:
        return self.rank >= other.rank


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique constraint is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    is_active_user: Mapped[bool] = mapped_column("is_active", default=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Rotated on logout, password or second-factor change and deactivation; part of the login
    # cookie's id, so every older session and remember-me cookie stops working at once.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now()
    )
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Two-step verification with an authenticator app: the shared secret, encrypted with a key
    # derived from SECRET_KEY (app/services/accounts/secret_box.py), and the last time-step a
    # code was accepted for, so each code signs in once.
    totp_secret_encrypted: Mapped[str | None] = mapped_column(String(255))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @validates("email")
    def _normalize_email(self, _key: str, value: str) -> str:
        return value.strip().lower()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.is_active_user

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def can(self, role: Role) -> bool:
        return self.is_active_user and self.role.includes(role)

    @property
    def has_authenticator_app(self) -> bool:
        return self.totp_secret_encrypted is not None

    def end_all_sessions(self) -> None:
        self.session_token = new_session_token()

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"
