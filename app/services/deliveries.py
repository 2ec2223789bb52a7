"""What a new submission sends out, written into the outbox in the submission's own transaction:
if the process dies right after answering, nothing is lost; if storing fails, nothing is sent."""

from __future__ import annotations

from app.extensions import db
from app.models import Form
from app.models import FormVersion
from app.models import Submission
from app.services import notifications
from app.services import webhooks
from app.services.answer_sheet import answer_sheet
from app.signals import submission_accepted


def queue_submission_deliveries(form: Form, submission: Submission) -> None:
    """Emails to the form's recipients, the optional reply, and one call per enabled webhook.
    Adds rows to the current transaction and never commits: the submission service does."""
    version = db.session.get(FormVersion, submission.version_id) if submission.version_id else None
    sheet = answer_sheet(form, version, submission)
    notifications.queue_submission_emails(form, version, submission, sheet)
    webhooks.queue_submission_calls(form, version, submission, sheet)


def _on_submission_accepted(form: Form, submission: Submission, **_extra: object) -> None:
    queue_submission_deliveries(form, submission)


def connect_receivers() -> None:
    """Listen to ``submission_accepted``; connecting twice is harmless (blinker keeps one)."""
    submission_accepted.connect(_on_submission_accepted, weak=False)
