"""The JSON bodies webhooks send: Formyard's own, and messages for Slack and Discord."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

from app.links import external_url_or_none
from app.models import Form
from app.models import FormVersion
from app.models import Submission
from app.models import WebhookPreset
from app.models.types import utcnow
from app.ops.demo_answers import answerer_for
from app.services.submissions.answer_sheet import AnsweredField
from app.services.submissions.answer_sheet import answer_sheet
from app.services.submissions.versions import specs_for

SUBMISSION_EVENT = "submission.created"
# A test event's answer to a file question: no file is stored, so its link leads nowhere.
SAMPLE_FILE = {
    "file_id": "sample",
    "name": "sample.pdf",
    "size": 24_576,
    "content_type": "application/pdf",
}
SAMPLE_FILE_URL = "https://example.com/sample.pdf"
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
    """The "send test event" body: shaped like a new submission's, with a made-up answer to
    each question of the published version, and marked as a test (``event`` is "test",
    ``test`` is true, the submission has no id)."""
    message = f"Test event from Formyard for the form {form.title}: this endpoint works."
    sheet = sample_sheet(form, version)
    if preset == WebhookPreset.SLACK:
        return _slack(_slack_escape(message) + " Sample answers:", sheet)
    if preset == WebhookPreset.DISCORD:
        return _discord(f"{message} Sample answers:", form, sheet)
    return {
        "event": TEST_EVENT,
        "test": True,
        "form": form_summary(form),
        "version": version.number if version else None,
        "message": message,
        "submission": {"id": None, "created_at": utcnow().isoformat(), "path": None},
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


def sample_sheet(form: Form, version: FormVersion | None) -> list[AnsweredField]:
    """A plausible answer to every question of ``version``, as the answer sheet shows a real
    submission's (the same made-up answers each time); none for a static-site endpoint."""
    if version is None:
        return []
    rng = random.Random(0)  # noqa: S311 (made-up answers, not secrets)
    answers: dict[str, Any] = {}
    for spec in specs_for(version):
        if spec.type == "file":
            answers[spec.key] = dict(SAMPLE_FILE)
            continue
        answerer = answerer_for(replace(spec, required=True))
        if answerer is not None:
            answers[spec.key] = answerer(rng, 0)
    sample = Submission(form_id=form.id, version_id=version.id, answers=answers, meta={})
    return answer_sheet(form, version, sample, file_url=lambda _reference: SAMPLE_FILE_URL)


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
