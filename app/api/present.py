"""Models as the API shows them: plain dicts that the response schemas serialise."""

from __future__ import annotations

from typing import Any

from app.links import external_url
from app.models import Delivery
from app.models import DeliveryAttempt
from app.models import Form
from app.models import FormVersion
from app.models import Submission
from app.models import SubmissionNote
from app.models import WebhookEndpoint
from app.services import forms
from app.services.submissions.answer_sheet import answer_sheet


def form_summary(form: Form) -> dict[str, Any]:
    version = form.published_version
    return {
        "id": form.id,
        "slug": form.slug,
        "title": form.title,
        "kind": form.kind.value,
        "status": form.status.value,
        "availability": form.availability().value,
        "url": external_url("public.show_form", slug=form.slug),
        "published_version": version.number if version else None,
        "has_unpublished_changes": form.has_unpublished_changes,
        "submission_count": form.submission_count,
        "last_submission_at": form.last_submission_at,
        "created_at": form.created_at,
        "updated_at": form.updated_at,
    }


def form_detail(form: Form) -> dict[str, Any]:
    version = form.published_version
    return {
        **form_summary(form),
        "description": form.description,
        "settings": forms.current_settings(form),
        "draft": {"fields": form.draft_fields, "conditions": form.draft_conditions},
        "published": version_detail(version) if version else None,
    }


def version_detail(version: FormVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "title": version.title,
        "description": version.description,
        "published_at": version.published_at,
        "fields": version.schema.get("fields", []),
        "pages": _pages(version.schema.get("pages")),
        "conditions": version.schema.get("conditions"),
    }


def _pages(pages: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if pages is None:
        return None
    blank = {"title": "", "description": "", "show_if": None, "routes": [], "default": None}
    return [{**blank, **page} for page in pages]


def submission_detail(
    form: Form, submission: Submission, versions: dict[int, FormVersion]
) -> dict[str, Any]:
    """``versions`` are the form's versions by id, read once for a whole page."""
    version = versions.get(submission.version_id) if submission.version_id else None
    sheet = answer_sheet(form, version, submission, file_url=_file_url(form))
    return {
        "id": submission.id,
        "form_id": submission.form_id,
        "version": version.number if version else None,
        "created_at": submission.created_at,
        "answers": {field.key: field.value for field in sheet},
        "read": submission.is_read,
        "starred": submission.is_starred,
        "spam": submission.is_spam,
        "spam_reason": submission.spam_reason,
        "trashed_at": submission.deleted_at,
        "meta": submission.meta or {},
        "tags": [tag.name for tag in submission.tags],
        "note": note_detail(submission.note),
    }


def note_detail(note: SubmissionNote | None) -> dict[str, Any] | None:
    if note is None:
        return None
    author = note.changed_by
    return {
        "text": note.text,
        "changed_at": note.changed_at,
        "changed_by": {"id": author.id, "name": author.display_name} if author else None,
    }


def versions_by_id(form: Form) -> dict[int, FormVersion]:
    return {version.id: version for version in forms.list_versions(form)}


def _file_url(form: Form):
    def file_url(reference: dict[str, Any]) -> str:
        return external_url("api.download_file", form_id=form.id, file_id=reference["file_id"])

    return file_url


def webhook_detail(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "form_id": endpoint.form_id,
        "url": endpoint.display_url,
        "preset": endpoint.preset.value,
        "enabled": endpoint.enabled,
        "consecutive_failures": endpoint.consecutive_failures,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }


def delivery_detail(delivery: Delivery, attempts: list[DeliveryAttempt]) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "delivery_id": delivery.public_id,
        "kind": delivery.kind.value,
        "event": delivery.event,
        "trigger": delivery.trigger.value,
        "status": delivery.status.value,
        "submission_id": delivery.submission_id,
        "attempt_count": delivery.attempts,
        "max_attempts": delivery.max_attempts,
        "created_at": delivery.created_at,
        "next_attempt_at": delivery.next_attempt_at,
        "completed_at": delivery.completed_at,
        "last_error": delivery.last_error,
        "attempts": [attempt_detail(attempt) for attempt in attempts],
    }


def attempt_detail(attempt: DeliveryAttempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "started_at": attempt.started_at,
        "duration_ms": attempt.duration_ms,
        "succeeded": attempt.succeeded,
        "status_code": attempt.status_code,
        "error": attempt.error,
        "response_excerpt": attempt.response_excerpt,
    }
