"""Times are stored in UTC and shown, and typed, in the signed-in user's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

from flask_login import current_user


def user_zone() -> ZoneInfo:
    try:
        return ZoneInfo(current_user.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(moment: datetime | None) -> str:
    """A stored UTC time in the user's zone, as people read it."""
    if moment is None:
        return ""
    return moment.astimezone(user_zone()).strftime("%Y-%m-%d %H:%M")
