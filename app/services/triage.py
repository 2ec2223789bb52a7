"""Changing submissions: read, star, spam, trash, restore, purge, one at a time or in bulk.

Marking something "not spam" counts it as a real submission and only then announces it, so
notifications and webhooks go out for it as for any submission that arrives.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from datetime import timedelta
from typing import Literal

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update

from app.extensions import db
from app.models import Form
from app.models import SpamReason
from app.models import Submission
from app.models.form import TRASH_DAYS
from app.models.types import utcnow
from app.services.errors import ValidationFailed
from app.services.submissions import _count_submission
from app.signals import submission_accepted

BulkAction = Literal["read", "unread", "star", "unstar", "spam", "not_spam", "trash", "restore"]
BULK_ACTIONS: tuple[str, ...] = BulkAction.__args__
PURGE_BATCH = 500


def open_submission(submission: Submission) -> None:
    """Opening a submission marks it read."""
    if not submission.is_read:
        submission.is_read = True
        db.session.commit()


def set_read(submission: Submission, is_read: bool) -> None:
    submission.is_read = is_read
    db.session.commit()


def set_starred(submission: Submission, is_starred: bool) -> None:
    submission.is_starred = is_starred
    db.session.commit()


def mark_spam(form: Form, submission: Submission) -> None:
    """Move a submission to the spam folder; it no longer counts towards the form's limit."""
    _mark_spam(form, submission)
    db.session.commit()


def _mark_spam(form: Form, submission: Submission) -> None:
    if submission.is_spam:
        return
    submission.is_spam = True
    submission.spam_reason = SpamReason.MANUAL.value
    db.session.execute(
        update(Form)
        .where(Form.id == form.id, Form.submission_count > 0)
        .values(submission_count=Form.submission_count - 1, updated_at=Form.updated_at)
        .execution_options(synchronize_session=False)
    )


def mark_not_spam(form: Form, submission: Submission) -> None:
    """Move a submission from spam to the inbox, count it, and send what a new one sends.

    Raises FormUnavailable when the form already has all the responses it may take.
    """
    _mark_not_spam(form, submission)
    db.session.commit()


def _mark_not_spam(form: Form, submission: Submission) -> None:
    if not submission.is_spam:
        return
    submission.is_spam = False
    submission.spam_reason = None
    latest = max(form.last_submission_at or submission.created_at, submission.created_at)
    try:
        _count_submission(form, latest)
        db.session.flush()
        # Receivers add their deliveries to this transaction, as for a submission arriving.
        submission_accepted.send(form, submission=submission)
    except Exception:
        db.session.rollback()
        raise


def trash(submission: Submission) -> None:
    submission.deleted_at = utcnow()
    db.session.commit()


def restore(submission: Submission) -> None:
    submission.deleted_at = None
    db.session.commit()


def apply_bulk(form: Form, action: str, batches: Iterable[list[int]]) -> int:
    """Apply ``action`` to the form's submissions with the given ids; how many were changed.

    Flags change with one UPDATE per batch; spam moves go row by row, because each one
    counts and announces a submission.
    """
    if action not in BULK_ACTIONS:
        raise ValidationFailed("Choose an action from the list.", field="action")
    changed = 0
    for ids in batches:
        if action in ("spam", "not_spam"):
            changed += _move_spam(form, ids, to_spam=action == "spam")
        else:
            changed += _update_flags(form, ids, action)
    db.session.commit()
    return changed


def _update_flags(form: Form, ids: list[int], action: str) -> int:
    values: dict[str, object] = {
        "read": {"is_read": True},
        "unread": {"is_read": False},
        "star": {"is_starred": True},
        "unstar": {"is_starred": False},
        "trash": {"deleted_at": utcnow()},
        "restore": {"deleted_at": None},
    }[action]
    statement = (
        update(Submission)
        .where(Submission.form_id == form.id, Submission.id.in_(ids))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(statement).rowcount or 0


def _move_spam(form: Form, ids: list[int], *, to_spam: bool) -> int:
    rows = db.session.scalars(
        select(Submission).where(
            Submission.form_id == form.id,
            Submission.id.in_(ids),
            Submission.is_spam.is_(not to_spam),
        )
    ).all()
    for submission in rows:
        if to_spam:
            _mark_spam(form, submission)
        else:
            _mark_not_spam(form, submission)
    return len(rows)


def purge_trash(now: datetime | None = None) -> int:
    """Delete submissions that have been in the trash for more than 30 days; how many.

    Their files go with them (the foreign key cascades). Batches keep each transaction short.
    """
    cutoff = (now or utcnow()) - timedelta(days=TRASH_DAYS)
    purged = 0
    while True:
        ids = list(
            db.session.scalars(
                select(Submission.id)
                .where(Submission.deleted_at.is_not(None), Submission.deleted_at < cutoff)
                .limit(PURGE_BATCH)
            )
        )
        if not ids:
            return purged
        db.session.execute(delete(Submission).where(Submission.id.in_(ids)))
        db.session.commit()
        purged += len(ids)
