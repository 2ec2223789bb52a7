"""Changing submissions: read, star, spam, trash, restore, purge, one at a time or in bulk;
tags and the note live in tagging.py.

Marking something "not spam" counts it as a real submission and only then announces it, so
notifications and webhooks go out for it as for any submission that arrives. Whatever makes a
summarized submission start or stop counting (spam, trash, restore) moves the form's summary
rollups in the same transaction; one not summarized yet is counted by the next batch as it then
is. Purging the trash leaves them alone, since trashed rows no longer count.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from datetime import timedelta
from typing import Literal

from sqlalchemy import Row
from sqlalchemy import case
from sqlalchemy import delete
from sqlalchemy import not_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm.util import identity_key

from app.exceptions import ValidationFailed
from app.extensions import db
from app.models import Form
from app.models import SpamReason
from app.models import Submission
from app.models import User
from app.models.form import TRASH_DAYS
from app.models.types import utcnow
from app.services.audit.recording import record
from app.services.inbox import rollups
from app.services.inbox import tagging
from app.services.submissions.accepting import count_submission
from app.signals import submission_accepted

BulkAction = Literal["read", "unread", "star", "unstar", "spam", "not_spam", "trash", "restore"]
BULK_ACTIONS: tuple[str, ...] = BulkAction.__args__
PURGE_BATCH = 500
_submissions = Submission.__table__
_RETURNED = (
    _submissions.c.id,
    _submissions.c.created_at,
    _submissions.c.version_id,
    _submissions.c.answers,
    _submissions.c.is_spam,
    _submissions.c.deleted_at,
    _submissions.c.summarized,
)


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
    _move_to_spam(form, [submission.id])
    db.session.commit()


def _changed(form_id: int, ids: list[int], condition, **values: object) -> list[Row]:
    """Set ``values`` on those of ``ids`` that still meet ``condition``, and return them.

    The condition is checked by the UPDATE itself, so of two people trashing the same
    submission at once only one changes it, and the summary rollups move once.
    """
    chosen = (_submissions.c.form_id == form_id, _submissions.c.id.in_(ids), condition)
    statement = (
        update(_submissions)
        .where(*chosen, Submission.locked_in_id_order(*chosen))
        .values(**values)
        .returning(*_RETURNED)
    )
    rows = db.session.execute(statement).all()
    # ORM objects of these rows in the session read the new values on their next use.
    for row in rows:
        changed = db.session.identity_map.get(identity_key(Submission, row.id))
        if changed is not None:
            db.session.expire(changed)
    return rows


def _move_to_spam(form: Form, ids: list[int]) -> int:
    moved = _changed(
        form.id,
        ids,
        not_(_submissions.c.is_spam),
        is_spam=True,
        spam_reason=SpamReason.MANUAL.value,
    )
    if not moved:
        return 0
    db.session.execute(
        update(Form)
        .where(Form.id == form.id)
        .values(
            submission_count=case(
                (Form.submission_count > len(moved), Form.submission_count - len(moved)), else_=0
            ),
            updated_at=Form.updated_at,
        )
        .execution_options(synchronize_session=False)
    )
    rollups.count_submissions(
        form.id, [row for row in moved if row.summarized and row.deleted_at is None], -1
    )
    return len(moved)


def mark_not_spam(form: Form, submission: Submission) -> None:
    """Move a submission from spam to the inbox, count it, and send what a new one sends.

    Raises FormUnavailable when the form already has all the responses it may take.
    """
    _mark_not_spam(form, submission)
    db.session.commit()


def _mark_not_spam(form: Form, submission: Submission) -> bool:
    try:
        created_at, last = submission.created_at, form.last_submission_at
        if not _changed(
            form.id, [submission.id], _submissions.c.is_spam, is_spam=False, spam_reason=None
        ):
            return False
        count_submission(form, max(last or created_at, created_at))
        db.session.flush()
        # Receivers add their rows (deliveries, summary rollups) to this transaction, as for a
        # submission arriving.
        submission_accepted.send(form, submission=submission)
    except Exception:
        db.session.rollback()
        raise
    return True


def trash(submission: Submission) -> None:
    _move_to_trash(submission.form_id, [submission.id])
    db.session.commit()


def restore(submission: Submission) -> None:
    _restore(submission.form_id, [submission.id])
    db.session.commit()


def change_flags(
    form: Form,
    submission: Submission,
    *,
    read: bool | None = None,
    starred: bool | None = None,
    spam: bool | None = None,
    trashed: bool | None = None,
    tags: list[str] | None = None,
    note: str | None = None,
    user: User | None = None,
) -> None:
    """Several changes at once (None leaves a flag as it is), as the API's PATCH asks. Tags
    and note are checked first, then spam: it is the one change that can be refused (a full
    form), and then nothing else has changed."""
    if tags is not None:
        tagging.normalise_tags(tags)
    if note is not None:
        tagging.normalise_note(note)
    if spam is True:
        mark_spam(form, submission)
    elif spam is False:
        mark_not_spam(form, submission)
    if read is not None:
        set_read(submission, read)
    if starred is not None:
        set_starred(submission, starred)
    if trashed is True:
        trash(submission)
    elif trashed is False:
        restore(submission)
    if tags is not None or note is not None:
        if user is None:
            raise ValueError("a note is signed by the user who writes it")
        tagging.change_triage(form, submission, user, tags=tags, note=note)


def _move_to_trash(form_id: int, ids: list[int]) -> int:
    moved = _changed(form_id, ids, _submissions.c.deleted_at.is_(None), deleted_at=utcnow())
    rollups.count_submissions(
        form_id, [row for row in moved if row.summarized and not row.is_spam], -1
    )
    return len(moved)


def _restore(form_id: int, ids: list[int]) -> int:
    restored = _changed(form_id, ids, _submissions.c.deleted_at.is_not(None), deleted_at=None)
    rollups.count_submissions(
        form_id, [row for row in restored if row.summarized and not row.is_spam], 1
    )
    return len(restored)


def apply_bulk(form: Form, action: str, batches: Iterable[list[int]]) -> int:
    """Apply ``action`` to the form's submissions with the given ids; how many were changed.

    Each batch is one UPDATE (and one rollup upsert for what starts or stops counting);
    "not spam" goes row by row, because each one counts and announces a submission.
    """
    if action not in BULK_ACTIONS:
        raise ValidationFailed("Choose an action from the list.", field="action")
    changed = 0
    for ids in batches:
        if action == "spam":
            changed += _move_to_spam(form, ids)
        elif action == "not_spam":
            changed += _move_out_of_spam(form, ids)
        elif action == "trash":
            changed += _move_to_trash(form.id, ids)
        elif action == "restore":
            changed += _restore(form.id, ids)
        else:
            changed += _update_flags(form, ids, action)
    record(f"inbox.bulk_{action}", form, details={"changed": changed})
    db.session.commit()
    return changed


def _update_flags(form: Form, ids: list[int], action: str) -> int:
    values: dict[str, object] = {
        "read": {"is_read": True},
        "unread": {"is_read": False},
        "star": {"is_starred": True},
        "unstar": {"is_starred": False},
    }[action]
    chosen = (Submission.form_id == form.id, Submission.id.in_(ids))
    statement = (
        update(Submission)
        .where(*chosen, Submission.locked_in_id_order(*chosen))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(statement).rowcount or 0


def _move_out_of_spam(form: Form, ids: list[int]) -> int:
    rows = db.session.scalars(
        select(Submission)
        .where(Submission.form_id == form.id, Submission.id.in_(ids), Submission.is_spam)
        .order_by(Submission.id)  # changed one by one, in id order as the other bulk actions
    ).all()
    return sum(_mark_not_spam(form, submission) for submission in rows)


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
