"""What a new submission sends out, written into the outbox in the submission's own transaction:
if the process dies right after answering, nothing is lost; if storing fails, nothing is sent."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy import exists
from sqlalchemy import select

from app.caching import ProcessCache
from app.extensions import db
from app.models import Form
from app.models import FormNotification
from app.models import FormVersion
from app.models import Submission
from app.models import WebhookEndpoint
from app.services.delivery import notifications
from app.services.delivery import webhooks
from app.services.submissions.answer_sheet import answer_sheet
from app.signals import submission_accepted
from app.signals import submission_needs_transaction

# Whether a form has anything to send, per process, for a moment: most forms have no
# recipients or webhooks, and their submissions should not pay two queries to learn it.
# Changes made in this process clear it at once; other processes see them within the TTL.
TARGETS_TTL = 2.0
_targets: ProcessCache[int, bool] = ProcessCache(ttl=TARGETS_TTL)


def has_delivery_targets(form_id: int) -> bool:
    cached = _targets.get(form_id)
    if cached is not None:
        return cached
    found = db.session.scalar(
        select(
            exists().where(FormNotification.form_id == form_id)
            | exists().where(WebhookEndpoint.form_id == form_id, WebhookEndpoint.enabled.is_(True))
        )
    )
    _targets.set(form_id, bool(found))
    return bool(found)


@event.listens_for(FormNotification, "after_insert")
@event.listens_for(FormNotification, "after_update")
@event.listens_for(FormNotification, "after_delete")
@event.listens_for(WebhookEndpoint, "after_insert")
@event.listens_for(WebhookEndpoint, "after_update")
@event.listens_for(WebhookEndpoint, "after_delete")
def _targets_changed(_mapper, _connection, target) -> None:
    _targets.pop(target.form_id)


def queue_submission_deliveries(form: Form, submission: Submission) -> None:
    """Emails to the form's recipients, the optional reply, and one call per enabled webhook.
    Adds rows to the current transaction and never commits: the submission service does."""
    if not has_delivery_targets(form.id):
        return
    version = db.session.get(FormVersion, submission.version_id) if submission.version_id else None
    sheet = answer_sheet(form, version, submission)
    notifications.queue_submission_emails(form, version, submission, sheet)
    webhooks.queue_submission_calls(form, version, submission, sheet)


def _on_submission_accepted(form: Form, submission: Submission, **_extra: object) -> None:
    queue_submission_deliveries(form, submission)


def _queues_deliveries(form: Form, **_extra: object) -> bool:
    # The receiver asks the same cached question a moment later. Only if the cached answer
    # expires in between and the form has just gained its first target do the deliveries
    # commit right after their submission instead of with it.
    return has_delivery_targets(form.id)


def connect_receivers() -> None:
    """Listen to ``submission_accepted`` and say when a form's submissions add deliveries to its
    transaction; connecting twice is harmless (blinker keeps one)."""
    submission_accepted.connect(_on_submission_accepted, weak=False)
    submission_needs_transaction.connect(_queues_deliveries, weak=False)
