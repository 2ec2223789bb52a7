"""The JSON bodies webhooks send: Formyard's own, and messages for Slack and Discord."""

from __future__ import annotations

from typing import Any

from app.links import external_url_or_none
from app.models import Form
from app.models import FormVersion
from app.models import Submission
from app.models import WebhookPreset
from app.services.submissions.answer_sheet import AnsweredField

SUBMISSION_EVENT = "submission.created"
TEST_EVENT = "test"
SLACK_TEXT_CHARS = 3500
DISCORD_FIELDS = 25
DISCORD_NAME_CHARS = 256
DISCORD_VALUE_CHARS = 1024
DISCORD_EMBED_CHARS = 5500  # Discord refuses an embed over 6,000 characters
NO_ANSWER = "(no answer)"


def form_summary(form: Form) -> dict[str, Any]:
    return {
        "id": form.id,
        "slug": form.slug,
        "title": form.title,
        "url": external_url_or_none("public.show_form", slug=form.slug),
    }


def submission_body(
    preset: WebhookPreset,
    form: Form,
    version: FormVersion | None,
    submission: Submission,
    sheet: list[AnsweredField],
) -> dict[str, Any]:
    """What an endpoint with ``preset`` receives for a new submission."""
    if preset == WebhookPreset.SLACK:
        return _slack(f"New response to *{_slack_escape(form.title)}*", sheet)
    if preset == WebhookPreset.DISCORD:
        return _discord(f"New response to **{form.title}**", form, sheet)
    return {
        "event": SUBMISSION_EVENT,
        "form": form_summary(form),
        "version": version.number if version else None,
        "submission": {
            "id": submission.id,
            "created_at": submission.created_at.isoformat(),
            "path": (submission.meta or {}).get("path"),
        },
        "answers": {field.key: field.value for field in sheet},
        "fields": [
            {
                "key": field.key,
                "label": field.label,
                "type": field.type,
                "value": field.value,
                "display": field.display,
            }
            for field in sheet
        ],
    }


def ping_body(preset: WebhookPreset, form: Form, version: FormVersion | None) -> dict[str, Any]:
    """The "send test event" body: shaped like the real ones, with no answers."""
    message = f"Test event from Formyard for the form {form.title}: this endpoint works."
    if preset == WebhookPreset.SLACK:
        return {"text": _slack_escape(message)}
    if preset == WebhookPreset.DISCORD:
        return {"content": message[:2000], "allowed_mentions": {"parse": []}}
    return {
        "event": TEST_EVENT,
        "form": form_summary(form),
        "version": version.number if version else None,
        "message": message,
        "submission": None,
        "answers": {},
        "fields": [],
    }


def _slack(heading: str, sheet: list[AnsweredField]) -> dict[str, Any]:
    lines = [heading]
    for field in sheet:
        lines.append(f"*{_slack_escape(field.label)}*: {_slack_escape(field.display) or '_none_'}")
    text = "\n".join(lines)
    if len(text) > SLACK_TEXT_CHARS:
        text = text[: SLACK_TEXT_CHARS - 1] + "…"
    return {"text": text}


def _slack_escape(text: str) -> str:
    # Slack reads <...> as links and mentions (<!channel>); these three make text literal.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _discord(heading: str, form: Form, sheet: list[AnsweredField]) -> dict[str, Any]:
    fields: list[dict[str, Any]] = []
    used = len(form.title)
    for field in sheet[:DISCORD_FIELDS]:
        name = field.label[:DISCORD_NAME_CHARS] or field.key
        value = (field.display or NO_ANSWER)[:DISCORD_VALUE_CHARS]
        if used + len(name) + len(value) > DISCORD_EMBED_CHARS:
            break
        used += len(name) + len(value)
        fields.append({"name": name, "value": value, "inline": False})
    return {
        "content": heading[:2000],
        "embeds": [{"title": form.title[:256], "fields": fields}],
        # A respondent's "@everyone" stays text.
        "allowed_mentions": {"parse": []},
    }
