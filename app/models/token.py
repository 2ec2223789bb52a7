"""Personal API tokens: a script acts as the person who made the token, never with more."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from app.extensions import db
from app.models.types import UTCDateTime
from app.models.types import enum_type
from app.models.types import utcnow
from app.models.user import User


class TokenScope(enum.StrEnum):
    READ = "read"  # GET only
    WRITE = "write"  # read and write


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[TokenScope] = mapped_column(enum_type(TokenScope))
    # SHA-256 of the whole token, in hex. The token carries 256 random bits, so a fast hash is
    # as safe as a slow one and lets a request find its token with one indexed lookup.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token's first characters ("fy_3kQ9"), so people can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def can_write(self) -> bool:
        """Whether the scope allows writing; the user's role is checked separately."""
        return self.scope == TokenScope.WRITE

    def __repr__(self) -> str:
        return f"<ApiToken {self.prefix} {self.scope.value}>"
