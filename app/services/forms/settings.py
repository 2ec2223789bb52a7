"""A form's settings, declared once in ``SETTINGS``: what each is called and holds, its default,
how it is checked and stored. The builder, the API and definition files read the declaration."""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Mapping
from copy import copy
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from enum import StrEnum
from operator import attrgetter
from typing import Any
from urllib.parse import urlsplit

from app.exceptions import DomainError
from app.exceptions import ValidationFailed
from app.extensions import db
from app.fields.filekinds import ENDPOINT_DEFAULT_KINDS
from app.fields.filekinds import FILE_KINDS
from app.models import Form
from app.models import FormStatus
from app.services.audit.recording import record

ORIGIN_PATTERN = re.compile(r"https?://[a-z0-9.-]+(:\d{1,5})?")


class SettingKind(StrEnum):
    """What a setting holds; the builder's inputs and definition files write each kind their
    own way."""

    CHOICE = "choice"  # one of a few words
    TIME = "time"  # a moment with its time zone, or None
    COUNT = "count"  # a whole number, or None
    TEXT = "text"
    URL = "url"  # a web address, or None
    FLAG = "flag"
    TEXT_LIST = "text_list"
    CHOICE_LIST = "choice_list"  # several of a few words, or none


def _as_given(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Setting:
    """One setting, stored in the ``Form`` column of its name.

    ``default`` is the value when none is given, ``check`` turns a given value into the stored
    one (or raises ValidationFailed naming the setting), ``read`` turns the stored value back
    into one ``update_settings`` takes.
    """

    name: str
    kind: SettingKind
    default: Any
    check: Callable[[Any], Any] = _as_given
    read: Callable[[Any], Any] = _as_given

    def value_of(self, form: Form) -> Any:
        """This setting of ``form``, as ``update_settings`` takes it."""
        return self.read(getattr(form, self.name))


def _check_status(status: str) -> FormStatus:
    try:
        return FormStatus(status)
    except ValueError:
        raise ValidationFailed("Choose draft, open or closed.", field="status") from None


def _check_closing_time(closes_at: datetime | None) -> datetime | None:
    if closes_at is None:
        return None
    if closes_at.tzinfo is None:
        raise ValidationFailed("Give the closing time with its time zone.", field="closes_at")
    try:
        return closes_at.astimezone(UTC)
    except OverflowError:  # so close to year 1 or 9999 that UTC falls outside the calendar
        raise ValidationFailed(
            "Give a closing time within our calendar.", field="closes_at"
        ) from None


def _check_response_limit(limit: int | None) -> int | None:
    if limit is not None and not 1 <= limit <= 10_000_000:
        raise ValidationFailed("Use a number from 1 to 10,000,000.", field="max_responses")
    return limit


def _check_resume_days(days: int | None) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
        raise ValidationFailed("Use a number of days from 1 to 365.", field="resume_days")
    return days


MAX_RETENTION_DAYS = 36_500


def _check_retention_days(days: int | None) -> int | None:
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_RETENTION_DAYS:
        raise ValidationFailed(
            f"Use a number of days from 1 to {MAX_RETENTION_DAYS:,}, or leave it empty.",
            field="retention_days",
        )
    return days


def _check_spam_threshold(threshold: int | None) -> int:
    valid = isinstance(threshold, int) and not isinstance(threshold, bool)
    if not valid or not 1 <= threshold <= 1000:
        raise ValidationFailed("Use a spam score from 1 to 1000.", field="spam_threshold")
    return threshold


def _check_file_kinds(kinds: Any) -> list[str]:
    valid = isinstance(kinds, list | tuple) and all(kind in FILE_KINDS for kind in kinds)
    if not valid:
        raise ValidationFailed(
            f"Choose kinds of file from: {', '.join(FILE_KINDS)}.", field="endpoint_file_kinds"
        )
    return [kind for kind in FILE_KINDS if kind in kinds]  # in a fixed order, once each


def _clean_confirmation_message(message: str | None) -> str:
    return (message or "").strip()[:5000]


def _clean_submit_label(label: str | None) -> str:
    return (label or "").strip()[:100] or "Submit"


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


STATUS = Setting(
    "status",
    SettingKind.CHOICE,
    FormStatus.DRAFT.value,
    check=_check_status,
    read=attrgetter("value"),
)
# In this order they are checked, exported and shown.
SETTINGS: tuple[Setting, ...] = (
    STATUS,
    Setting("closes_at", SettingKind.TIME, None, check=_check_closing_time),
    Setting("max_responses", SettingKind.COUNT, None, check=_check_response_limit),
    Setting("confirmation_message", SettingKind.TEXT, "", check=_clean_confirmation_message),
    Setting("redirect_url", SettingKind.URL, None, check=check_redirect_url),
    Setting("submit_label", SettingKind.TEXT, "Submit", check=_clean_submit_label),
    Setting("one_response_per_browser", SettingKind.FLAG, False),
    Setting("allowed_origins", SettingKind.TEXT_LIST, (), check=check_origins, read=list),
    Setting("allow_saving", SettingKind.FLAG, False),
    Setting("resume_days", SettingKind.COUNT, 30, check=_check_resume_days),
    Setting("one_question_per_page", SettingKind.FLAG, False),
    Setting("check_answers", SettingKind.FLAG, False),
    # A public post whose spam score reaches this goes to the Spam folder (app/services/spam).
    Setting("spam_threshold", SettingKind.COUNT, 50, check=_check_spam_threshold),
    Setting("require_proof_of_work", SettingKind.FLAG, False),
    # What files a static-site form keeps, checked by content (a built form's file questions
    # say it each for themselves).
    Setting(
        "endpoint_file_kinds",
        SettingKind.CHOICE_LIST,
        list(ENDPOINT_DEFAULT_KINDS),
        check=_check_file_kinds,
        read=list,
    ),
    # Days a submission is kept; None: the site's RETENTION_DAYS (app/services/retention).
    Setting("retention_days", SettingKind.COUNT, None, check=_check_retention_days),
    Setting("forward_only", SettingKind.FLAG, False),
)


def update_settings(form: Form, **settings: Any) -> None:
    """Check and save a form's settings: every one in ``SETTINGS``, by its name."""
    before = current_settings(form)
    _apply_settings(form, settings)
    record_setting_changes(form, before)
    db.session.commit()


def record_setting_changes(form: Form, before: dict[str, Any]) -> None:
    """Audit which settings changed since ``before`` (their names, never their values, which
    may be text the owner wrote), and a change of status as an action of its own."""
    after = current_settings(form)
    changed = [name for name in after if after[name] != before.get(name)]
    if not changed:
        return
    record("form.settings_changed", form, details={"changed": changed})
    if after["status"] != before.get("status"):
        action = "form.closed" if after["status"] == FormStatus.CLOSED else "form.reopened"
        record(action, form, details={"from": before.get("status"), "to": after["status"]})


def current_settings(form: Form) -> dict[str, Any]:
    """The form's settings, as ``update_settings`` takes them."""
    return {setting.name: setting.value_of(form) for setting in SETTINGS}


def apply_nested_settings(form: Form, settings: dict[str, Any]) -> None:
    """Settings given as ``{"settings": {...}}``: a refusal names ``settings.<name>``."""
    try:
        _apply_settings(form, {**current_settings(form), **settings})
    except DomainError as error:
        if error.field:
            error.field = f"settings.{error.field}"
        raise


def copy_settings(source: Form, target: Form) -> None:
    """Give ``target`` the settings of ``source`` but its status: a copy starts as a draft."""
    for setting in SETTINGS:
        if setting is not STATUS:
            # copy() so that two forms never share one list of origins
            setattr(target, setting.name, copy(getattr(source, setting.name)))


def _apply_settings(form: Form, settings: Mapping[str, Any]) -> None:
    names = {setting.name for setting in SETTINGS}
    if settings.keys() != names:
        # a caller that left one out would otherwise store None in its place
        raise TypeError(f"settings are {sorted(names)}, not {sorted(settings)}")
    for setting in SETTINGS:
        setattr(form, setting.name, setting.check(settings[setting.name]))
