"""Listing submissions: who may see which, keyset pages, and what is unread across forms.

A page is found by a cursor (the received time and id of the last row shown), never by an
offset, so page 10,000 costs what page 1 costs and rows arriving meanwhile shift nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import not_
from sqlalchemy import select
from sqlalchemy import tuple_
from sqlalchemy.orm import selectinload

from app.exceptions import NotFound
from app.extensions import db
from app.models import Form
from app.models import Submission
from app.models import SubmissionNote
from app.models import User
from app.models.types import MAX_BIG_ID
from app.services.forms.access import Action
from app.services.forms.access import check_allowed
from app.services.forms.access import get_form_for
from app.services.inbox.filters import EPOCH
from app.services.inbox.filters import InboxFilter
from app.services.inbox.filters import filter_conditions

PAGE_SIZE = 50
# --- who may see what -----------------------------------------------------------------------


def get_submission_for(user: User, form_id: int, submission_id: int, action: Action) -> Submission:
    """The submission if ``user`` may ``action`` its form; found only through that form."""
    form = get_form_for(user, form_id, action)
    submission = db.session.get(Submission, submission_id)
    if submission is None or submission.form_id != form.id:
        raise NotFound("No such submission.")
    return submission


def find_submission_for(user: User, submission_id: int, action: Action) -> tuple[Form, Submission]:
    """A submission known by its id alone, with its form, if ``user`` may ``action`` that form
    (not one in the trash)."""
    check_allowed(user, action)
    submission = (
        db.session.get(Submission, submission_id) if 0 < submission_id <= MAX_BIG_ID else None
    )
    if submission is None:
        raise NotFound("No such submission.")
    return get_form_for(user, submission.form_id, action), submission


def zone_of(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# --- pages -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """A row's place in the newest-first order: written ``<microseconds since 1970>.<id>``."""

    created_at: datetime
    id: int

    def __str__(self) -> str:
        return f"{(self.created_at - EPOCH) // timedelta(microseconds=1)}.{self.id}"

    @classmethod
    def parse(cls, value: str | None) -> Cursor | None:
        match = re.fullmatch(r"(-?\d{1,18})\.(\d{1,19})", value or "")
        if match is None or int(match.group(2)) > MAX_BIG_ID:
            return None
        try:
            moment = EPOCH + timedelta(microseconds=int(match.group(1)))
        except OverflowError:  # beyond the years datetime can hold: no row is there
            return None
        return cls(moment, int(match.group(2)))

    @classmethod
    def of(cls, submission: Submission) -> Cursor:
        return cls(submission.created_at, submission.id)


@dataclass
class Page:
    rows: list[Submission]
    newer: Cursor | None  # link to the page before, when there is one
    older: Cursor | None  # link to the page after


def _order_key():
    return tuple_(Submission.created_at, Submission.id)


def filtered(form: Form, chosen: InboxFilter, zone: ZoneInfo) -> Select:
    return select(Submission).where(*filter_conditions(form, chosen, zone))


def list_page(
    form: Form,
    chosen: InboxFilter,
    zone: ZoneInfo,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """Up to ``size`` rows newest first: the first page, the one ``after`` a cursor (older
    rows) or the one ``before`` it (newer rows)."""
    query = filtered(form, chosen, zone).options(
        selectinload(Submission.tags),
        selectinload(Submission.note).selectinload(SubmissionNote.changed_by),
    )
    if before is not None:
        query = query.where(_order_key() > (before.created_at, before.id))
        rows = list(db.session.scalars(query.order_by(*_ascending()).limit(size + 1)))
        has_more = len(rows) > size
        rows = rows[:size][::-1]
        return Page(rows, Cursor.of(rows[0]) if has_more and rows else None, _last(rows))
    if after is not None:
        query = query.where(_order_key() < (after.created_at, after.id))
    rows = list(db.session.scalars(query.order_by(*_descending()).limit(size + 1)))
    has_more = len(rows) > size
    rows = rows[:size]
    newer = Cursor.of(rows[0]) if after is not None and rows else None
    return Page(rows, newer, Cursor.of(rows[-1]) if has_more else None)


def _last(rows: list[Submission]) -> Cursor | None:
    return Cursor.of(rows[-1]) if rows else None


def _descending():
    return Submission.created_at.desc(), Submission.id.desc()


def _ascending():
    return Submission.created_at.asc(), Submission.id.asc()


def neighbours(
    form: Form, submission: Submission, chosen: InboxFilter, zone: ZoneInfo
) -> tuple[int | None, int | None]:
    """The ids of the next newer and next older submission within the filter."""
    query = select(Submission.id).where(*filter_conditions(form, chosen, zone))
    place = (submission.created_at, submission.id)
    newer = db.session.scalar(query.where(_order_key() > place).order_by(*_ascending()).limit(1))
    older = db.session.scalar(query.where(_order_key() < place).order_by(*_descending()).limit(1))
    return newer, older


def matching_ids(
    form: Form, chosen: InboxFilter, zone: ZoneInfo, batch: int = 1000
) -> Iterator[list[int]]:
    """The ids of every submission matching ``chosen``, newest first, in batches."""
    query = select(Submission.id, Submission.created_at).where(
        *filter_conditions(form, chosen, zone)
    )
    cursor: tuple[datetime, int] | None = None
    while True:
        page = query if cursor is None else query.where(_order_key() < cursor)
        rows = db.session.execute(page.order_by(*_descending()).limit(batch)).all()
        if not rows:
            return
        yield [row.id for row in rows]
        cursor = (rows[-1].created_at, rows[-1].id)


def count_matching(form: Form, chosen: InboxFilter, zone: ZoneInfo) -> int:
    query = (
        select(func.count()).select_from(Submission).where(*filter_conditions(form, chosen, zone))
    )
    return db.session.scalar(query) or 0


# --- across forms ----------------------------------------------------------------------------


def unread_counts() -> dict[int, int]:
    """Unread inbox submissions per form, read from the unread partial index."""
    rows = db.session.execute(
        select(Submission.form_id, func.count())
        .where(not_(Submission.is_read), not_(Submission.is_spam), Submission.deleted_at.is_(None))
        .group_by(Submission.form_id)
    )
    return {form_id: count for form_id, count in rows}


def newest_unread(forms: list[Form], limit: int = 20) -> list[Submission]:
    """The newest unread submissions over ``forms``: the top rows of each form's unread index,
    merged, so the cost does not grow with the number of submissions."""
    rows: list[Submission] = []
    for form in forms:
        query = (
            select(Submission)
            .where(
                Submission.form_id == form.id,
                not_(Submission.is_read),
                not_(Submission.is_spam),
                Submission.deleted_at.is_(None),
            )
            .order_by(*_descending())
            .limit(limit)
        )
        rows.extend(db.session.scalars(query))
    rows.sort(key=lambda row: (row.created_at, row.id), reverse=True)
    return rows[:limit]
