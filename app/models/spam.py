"""Proof-of-work challenges already solved: each is accepted once, until it expires."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from app.extensions import db
from app.models.types import UTCDateTime


class UsedChallenge(db.Model):
    __tablename__ = "used_challenges"

    # The challenge's signature (the app's HMAC of it): unique to one challenge.
    signature: Mapped[str] = mapped_column(String(128), primary_key=True)
    # After this the challenge is refused as expired anyway, and the row may go.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
