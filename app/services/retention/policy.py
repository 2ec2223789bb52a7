"""How long submissions are kept: each form's ``retention_days`` (or the site's
``RETENTION_DAYS``), enforced by the worker once a day.

A deleted submission leaves the summary's rollups too: the summary describes the submissions
that are stored, as it does after a submission is moved to the trash. A form's
``submission_count`` (what ``max_responses`` is held against) is not lowered: it counts what the
form received. Files and deliveries are deleted explicitly, so the counts in the audit entry
are what went, whichever database's cascades would have taken them anyway.
"""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from flask import current_app
from sqlalchemy import Row
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry
from app.models import Delivery
from app.models import DeliveryStatus
from app.models import Form
from app.models import StoredFile
from app.models import Submission
from app.models.types import utcnow
from app.services.audit.recording import record
from app.services.audit.recording import system_actor
from app.services.forms.editing import purge_trashed_forms
from app.services.inbox import rollups
from app.services.inbox.triage import purge_trash

BATCH = 1000
RETENTION_ACTOR = system_actor("retention")
RUN_ACTION = "retention.run"


def days_kept(form: Form) -> int | None:
    """Days the form keeps a submission: its own setting, else the site's; None: kept."""
    return form.retention_days or current_app.config.get("RETENTION_DAYS") or None


@dataclass(frozen=True)
class Preview:
    days: int
    cutoff: datetime
    submissions: int
    files: int


def preview(form: Form, now: datetime | None = None) -> Preview | None:
    """What the next run would delete of ``form``; None when it keeps everything."""
    days = days_kept(form)
    if days is None:
        return None
    cutoff = (now or utcnow()) - timedelta(days=days)
    old = select(Submission.id).where(Submission.form_id == form.id, Submission.created_at < cutoff)
    submissions = db.session.scalar(select(func.count()).select_from(old.subquery())) or 0
    files = db.session.scalar(
        select(func.count(StoredFile.id)).where(StoredFile.submission_id.in_(old))
    )
    return Preview(days, cutoff, submissions, files or 0)


@dataclass
class RunCounts:
    forms: int = 0
    submissions: int = 0
    files: int = 0
    deliveries: int = 0
    trashed_submissions: int = 0
    trashed_forms: int = 0


_ROW_COLUMNS = (
    Submission.id,
    Submission.form_id,
    Submission.created_at,
    Submission.version_id,
    Submission.answers,
    Submission.summarized,
    Submission.is_spam,
    Submission.deleted_at,
)


def _delete_submissions(form_id: int, rows: list[Row], counts: RunCounts) -> None:
    """Delete these submissions of one form (rows of ``_ROW_COLUMNS``), their files and
    deliveries, and take them out of the summary, in the current transaction."""
    ids = [row.id for row in rows]
    rollups.count_submissions(
        form_id, [row for row in rows if row.summarized and rollups.is_counted(row)], -1
    )
    counts.files += db.session.execute(
        delete(StoredFile).where(StoredFile.submission_id.in_(ids))
    ).rowcount
    counts.deliveries += db.session.execute(
        delete(Delivery).where(Delivery.submission_id.in_(ids))
    ).rowcount
    counts.submissions += db.session.execute(
        delete(Submission).where(Submission.id.in_(ids))
    ).rowcount


def _delete_old_submissions(form: Form, cutoff: datetime, counts: RunCounts) -> None:
    while True:
        rows = db.session.execute(
            select(*_ROW_COLUMNS)
            .where(Submission.form_id == form.id, Submission.created_at < cutoff)
            .order_by(Submission.id)
            .limit(BATCH)
            .with_for_update()
        ).all()
        if not rows:
            return
        _delete_submissions(form.id, list(rows), counts)
        db.session.commit()


def forget_if_forwarded(submission_id: int) -> bool:
    """Delete the submission if its form is forward only and every email and webhook call
    for it has been delivered, in the current transaction; whether it was. A delivery still
    waiting keeps it (a retry sends its own stored payload, but a redelivery needs the row);
    one that failed for good keeps it too, for the owner to see and send again."""
    row = db.session.execute(
        select(*_ROW_COLUMNS)
        .join(Form, Form.id == Submission.form_id)
        .where(Submission.id == submission_id, Form.forward_only)
        .with_for_update()
    ).first()
    if row is None:
        return False
    undelivered = db.session.scalar(
        select(func.count(Delivery.id)).where(
            Delivery.submission_id == submission_id, Delivery.status != DeliveryStatus.DELIVERED
        )
    )
    if undelivered:
        return False
    _delete_submissions(row.form_id, [row], RunCounts())
    return True


def run(now: datetime | None = None) -> RunCounts:
    """Delete what every form keeps no longer, and empty the trash of what has been there
    over 30 days; one audit entry with the counts. Batches keep each transaction short; the
    entry is written with the last of them."""
    now = now or utcnow()
    counts = RunCounts()
    for form in db.session.scalars(select(Form).order_by(Form.id)).all():
        days = days_kept(form)
        if days is None:
            continue
        before = counts.submissions
        _delete_old_submissions(form, now - timedelta(days=days), counts)
        counts.forms += counts.submissions > before
    counts.trashed_submissions = purge_trash(now)
    counts.trashed_forms = purge_trashed_forms(now)
    entry = record(RUN_ACTION, details=asdict(counts), actor=RETENTION_ACTOR)
    entry.created_at = now  # the time it ran for: what ``last_run_at`` schedules by
    db.session.commit()
    return counts


def last_run_at() -> datetime | None:
    """When retention last ran, by its audit entry: workers started by a scheduler for one
    pass (``flask worker --once``) remember nothing between passes."""
    return db.session.scalar(
        select(func.max(AuditEntry.created_at)).where(AuditEntry.action == RUN_ACTION)
    )
