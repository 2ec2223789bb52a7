"""A form's settings: how each is checked and stored."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from app.exceptions import DomainError
from app.exceptions import ValidationFailed
from app.extensions import db
from app.models import Form
from app.models import FormStatus

ORIGIN_PATTERN = re.compile(r"https?://[a-z0-9.-]+(:\d{1,5})?")


def update_settings(form: Form, **settings: Any) -> None:
    """Check and save a form's settings, named as ``_apply_settings`` takes them."""
    _apply_settings(form, **settings)
    db.session.commit()


def _apply_settings(
    form: Form,
    *,
    status: str,
    closes_at: datetime | None,
    max_responses: int | None,
    confirmation_message: str,
    redirect_url: str | None,
    submit_label: str,
    one_response_per_browser: bool,
    allowed_origins: list[str],
) -> None:
    try:
        form.status = FormStatus(status)
    except ValueError:
        raise ValidationFailed("Choose draft, open or closed.", field="status") from None
    if closes_at is not None:
        closes_at = _check_closing_time(closes_at)
    if max_responses is not None and not 1 <= max_responses <= 10_000_000:
        raise ValidationFailed("Use a number from 1 to 10,000,000.", field="max_responses")
    form.closes_at = closes_at
    form.max_responses = max_responses
    form.confirmation_message = (confirmation_message or "").strip()[:5000]
    form.redirect_url = check_redirect_url(redirect_url)
    form.submit_label = (submit_label or "").strip()[:100] or "Submit"
    form.one_response_per_browser = one_response_per_browser
    form.allowed_origins = check_origins(allowed_origins)


def current_settings(form: Form) -> dict[str, Any]:
    """The form's settings, as ``update_settings`` takes them."""
    return {
        "status": form.status.value,
        "closes_at": form.closes_at,
        "max_responses": form.max_responses,
        "confirmation_message": form.confirmation_message,
        "redirect_url": form.redirect_url,
        "submit_label": form.submit_label,
        "one_response_per_browser": form.one_response_per_browser,
        "allowed_origins": list(form.allowed_origins),
    }


def apply_nested_settings(form: Form, settings: dict[str, Any]) -> None:
    """Settings given as ``{"settings": {...}}``: a refusal names ``settings.<name>``."""
    try:
        _apply_settings(form, **{**current_settings(form), **settings})
    except DomainError as error:
        if error.field:
            error.field = f"settings.{error.field}"
        raise


def _check_closing_time(closes_at: datetime) -> datetime:
    if closes_at.tzinfo is None:
        raise ValidationFailed("Give the closing time with its time zone.", field="closes_at")
    try:
        return closes_at.astimezone(UTC)
    except OverflowError:  # so close to year 1 or 9999 that UTC falls outside the calendar
        raise ValidationFailed(
            "Give a closing time within our calendar.", field="closes_at"
        ) from None


def check_redirect_url(url: str | None) -> str | None:
    url = (url or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname or len(url) > 2000:
        raise ValidationFailed(
            "Give a full web address starting with https:// (or leave it empty).",
            field="redirect_url",
        )
    return url


def normalize_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def check_origins(origins: list[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in origins:
        origin = normalize_origin(raw)
        if not origin:
            continue
        if not ORIGIN_PATTERN.fullmatch(origin):
            raise ValidationFailed(
                f'"{raw.strip()}" is not a website origin; write it like https://www.example.org '
                "(scheme and host, no path).",
                field="allowed_origins",
            )
        if origin not in cleaned:
            cleaned.append(origin)
    if len(cleaned) > 50:
        raise ValidationFailed("List at most 50 websites.", field="allowed_origins")
    return cleaned
