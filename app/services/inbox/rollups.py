"""Summary rollups: the summary's counts per form and UTC day, brought up to date in batches as
submissions come in, and at once as they move to spam or the trash and come back.

A submission counts while it is neither spam nor in the trash. A new one is stored with
``summarized`` false and counted by the next batch (``catch_up``): the summary page runs one
before it reads, and the worker one a minute, so a post does not pay for an upsert of a dozen
counters. Once a row is summarized, whatever makes it start or stop counting changes its form's
rollups in the same transaction (the ``submission_accepted`` receiver for an un-spammed one, the
triage service for the rest), so the rollups are never ahead of or behind the summarized rows.
A batch and a change to the same row take the row's lock in turn (the batch's UPDATE re-reads
``summarized`` after waiting), so no row is counted twice or missed.

How answers are counted and written is in ``tally``.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
from datetime import date
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy import delete
from sqlalchemy import not_
from sqlalchemy import select
from sqlalchemy import update

from app.extensions import db
from app.fields import CHOICE_TYPES
from app.fields import FieldSpec
from app.models import Form
from app.models import FormVersion
from app.models import Submission
from app.models.rollup import SummaryRollup
from app.services.inbox.tally import Tally
from app.services.submissions.row_text import decode_json
from app.services.submissions.row_text import json_text
from app.services.submissions.row_text import raw_batches
from app.services.submissions.row_text import utc_text
from app.services.submissions.versions import specs_for
from app.services.submissions.versions import version_specs
from app.signals import submission_accepted

REBUILD_BATCH = 5000


# --- which answers are counted per value ------------------------------------------------------


def choice_keys(specs: Iterable[FieldSpec]) -> frozenset[str]:
    return frozenset(spec.key for spec in specs if spec.type in CHOICE_TYPES)


def choice_keys_of_version(version_id: int | None) -> frozenset[str]:
    # The fields parsed once per process: no query on the path of every submission.
    return frozenset() if version_id is None else choice_keys(version_specs(version_id))


def choice_keys_by_version(form_id: int) -> dict[int | None, frozenset[str]]:
    versions = db.session.scalars(select(FormVersion).where(FormVersion.form_id == form_id))
    keys: dict[int | None, frozenset[str]] = {None: frozenset()}
    for version in versions:
        keys[version.id] = choice_keys(specs_for(version))
    return keys


def is_counted(submission: Submission | Row) -> bool:
    return not submission.is_spam and submission.deleted_at is None


# --- keeping them current ---------------------------------------------------------------------


def count_submissions(form_id: int, rows: Iterable[Any], sign: int) -> None:
    """Start (``sign`` 1) or stop (-1) counting ``rows`` (with created_at, version_id, answers)
    in their form's rollups, in the current transaction."""
    tally = Tally(form_id)
    keys: dict[int | None, frozenset[str]] = {}
    for row in rows:
        if row.version_id not in keys:
            keys[row.version_id] = choice_keys_of_version(row.version_id)
        tally.add_submission(row.created_at, row.answers, keys[row.version_id], sign)
    tally.write()


def _on_submission_accepted(form: Form, submission: Submission, **_extra: object) -> None:
    # A new submission waits for the next batch. "Not spam" on a summarized one counts it now;
    # on one in the trash it announces it, but it counts once restored.
    if submission.summarized and is_counted(submission):
        count_submissions(form.id, [submission], 1)


_submissions = Submission.__table__


def catch_up(form_id: int | None = None) -> int:
    """Count the submissions not summarized yet (of one form, or of all) in the rollups, in the
    current transaction; how many rows were taken. The caller commits."""
    pending = [not_(_submissions.c.summarized)]
    if form_id is not None:
        pending.append(_submissions.c.form_id == form_id)
    statement = (
        update(_submissions)
        .where(*pending, Submission.locked_in_id_order(*pending))
        .values(summarized=True)
        .returning(
            _submissions.c.form_id,
            _submissions.c.created_at,
            _submissions.c.version_id,
            _submissions.c.answers,
            _submissions.c.is_spam,
            _submissions.c.deleted_at,
        )
    )
    rows = db.session.execute(statement).all()
    by_form: dict[int, list[Any]] = {}
    for row in rows:
        if is_counted(row):
            by_form.setdefault(row.form_id, []).append(row)
    for counted_form_id, counted in sorted(by_form.items()):
        count_submissions(counted_form_id, counted, 1)
    return len(rows)


def connect_receivers() -> None:
    """Listen to ``submission_accepted``; connecting twice is harmless (blinker keeps one)."""
    submission_accepted.connect(_on_submission_accepted, weak=False)


# --- building them from the stored rows --------------------------------------------------------


def counted_rows(
    form_id: int, since: datetime | None = None, until: datetime | None = None
) -> Iterator[list[tuple]]:
    """(UTC hour text, version id, answers' JSON text) of the form's counted submissions, in
    batches straight from the database driver."""
    query = select(
        utc_text(Submission.created_at, "hour"),
        Submission.version_id,
        json_text(Submission.answers),
    ).where(
        Submission.form_id == form_id,
        Submission.summarized,
        not_(Submission.is_spam),
        Submission.deleted_at.is_(None),
    )
    if since is not None:
        query = query.where(Submission.created_at >= since)
    if until is not None:
        query = query.where(Submission.created_at < until)
    return raw_batches(query, REBUILD_BATCH)


def tally_rows(tally: Tally, rows: Iterable[Any], keys: dict[int | None, frozenset[str]]) -> None:
    days: dict[str, date] = {}
    for hour_text, version_id, answers in rows:
        day = days.get(hour_text[:10])
        if day is None:
            day = days[hour_text[:10]] = date.fromisoformat(hour_text[:10])
        choices = keys.get(version_id, frozenset())
        tally.add(day, int(hour_text[11:13]), decode_json(answers) or {}, choices)


def rebuild(form_id: int) -> int:
    """Recount form ``form_id``'s rollups from its stored submissions and commit; how many
    submissions were counted. Submissions to the form wait meanwhile (the form's row is locked
    on PostgreSQL; SQLite has one writer at a time), so none is counted twice or missed."""
    db.session.execute(select(Form.id).where(Form.id == form_id).with_for_update())
    db.session.execute(delete(SummaryRollup).where(SummaryRollup.form_id == form_id))
    # Every row there now is counted below; one stored meanwhile waits for the next batch.
    db.session.execute(
        update(Submission)
        .where(Submission.form_id == form_id, not_(Submission.summarized))
        .values(summarized=True)
        .execution_options(synchronize_session=False)
    )
    tally = Tally(form_id)
    keys = choice_keys_by_version(form_id)
    counted = 0
    for rows in counted_rows(form_id):
        tally_rows(tally, rows, keys)
        counted += len(rows)
    tally.write()
    db.session.commit()
    return counted


def form_ids() -> list[int]:
    return list(db.session.scalars(select(Form.id).order_by(Form.id)))
