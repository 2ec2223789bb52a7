"""The In progress folder: the partial responses of a form with pages or saving, newest
touched first by keyset on (form_id, updated_at, id), the page each has reached; and the
summary's started, completed and drop-off per page.

A partial response counts while it has not expired (the worker purges expired ones now and
then; until it does, they are left out here). It is read-only in the inbox: it has no read or
starred state and never reaches unread counts, notifications or webhooks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import tuple_

from app.extensions import db
from app.flow.conditions import is_empty
from app.flow.pages import Flow
from app.models import Form
from app.models import PartialResponse
from app.models.types import utcnow
from app.services.inbox.listing import PAGE_SIZE
from app.services.inbox.listing import Cursor
from app.services.submissions.paging import CHECK_ANSWERS
from app.services.submissions.row_text import decode_json
from app.services.submissions.row_text import json_text
from app.services.submissions.versions import version_flow

# --- the folder ------------------------------------------------------------------------------


def has_pages(form: Form) -> bool:
    """Whether the form's published version asks its questions over several pages."""
    if form.published_version_id is None:
        return False
    return version_flow(form.published_version_id).is_multi_page


def shows_in_progress(form: Form) -> bool:
    """Whether the form has an In progress folder: it has pages or lets respondents save, or
    partial responses are left from when it did."""
    if form.is_endpoint:
        return False
    if has_pages(form) or form.allow_saving:
        return True
    # The newest one, as the folder reads it: a walk of the form's index, never of the table.
    newest = in_progress_query(form, after=None, before=None, size=0)
    return db.session.scalar(newest) is not None


def unexpired(form: Form, now: datetime | None = None) -> list[ColumnElement[bool]]:
    return [PartialResponse.form_id == form.id, PartialResponse.expires_at > (now or utcnow())]


@dataclass(frozen=True)
class PageReached:
    """Where a respondent is: a page of their version, its place and title."""

    id: str
    number: int
    of: int
    title: str

    def __str__(self) -> str:
        return f"{self.title} (page {self.number} of {self.of})"


def page_reached(flow: Flow, page_id: str | None) -> PageReached:
    """The page ``page_id`` of ``flow``; the first page when the partial names none, and the
    id alone when its version has no such page (it cannot, but a label must not fail)."""
    page_id = page_id or flow.pages[0].id
    page = flow.page(page_id)
    if page is None:
        return PageReached(page_id, 0, len(flow.pages), page_id)
    number = flow.index_of(page_id) + 1
    return PageReached(page_id, number, len(flow.pages), page.title or f"Page {number}")


def reached_at(version_id: int, page_id: str | None) -> PageReached:
    """The page of its version a partial response stands at. In one question at a time its
    page is a question's, named by the version's page it was cut from; on the check page, it
    has passed them all."""
    flow = version_flow(version_id)
    if page_id == CHECK_ANSWERS:
        count = len(flow.pages)
        return PageReached(CHECK_ANSWERS, count, count, "Checking their answers")
    if page_id is not None and flow.page(page_id) is None:
        page_id = version_flow(version_id, True).version_path([page_id])[-1]
    return page_reached(flow, page_id)


def reached(partial: PartialResponse) -> PageReached:
    return reached_at(partial.version_id, partial.page_id)


def answered_count(partial: PartialResponse) -> int:
    """How many questions have an answer so far (an unticked box or a blank is none)."""
    return sum(1 for value in partial.answers.values() if not is_empty(value))


@dataclass
class PartialPage:
    rows: list[PartialResponse]
    newer: Cursor | None  # link to the page before, when there is one
    older: Cursor | None  # link to the page after


def cursor_of(partial: PartialResponse) -> Cursor:
    return Cursor(partial.updated_at, partial.id)


def _order_key():
    return tuple_(PartialResponse.updated_at, PartialResponse.id)


def in_progress_query(
    form: Form,
    *,
    after: Cursor | None,
    before: Cursor | None,
    size: int,
    now: datetime | None = None,
) -> Select:
    """One page and a row more, read along the (form_id, updated_at, id) index: newest
    touched first, or oldest first for the page ``before`` a cursor."""
    query = select(PartialResponse).where(*unexpired(form, now))
    if before is not None:
        query = query.where(_order_key() > (before.created_at, before.id))
        order = (PartialResponse.updated_at.asc(), PartialResponse.id.asc())
    else:
        if after is not None:
            query = query.where(_order_key() < (after.created_at, after.id))
        order = (PartialResponse.updated_at.desc(), PartialResponse.id.desc())
    return query.order_by(*order).limit(size + 1)


def list_in_progress(
    form: Form,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> PartialPage:
    """Up to ``size`` partial responses, the last touched first: the first page, the one
    ``after`` a cursor (touched earlier) or the one ``before`` it (touched later)."""
    query = in_progress_query(form, after=after, before=before, size=size, now=now)
    rows = list(db.session.scalars(query))
    has_more = len(rows) > size
    rows = rows[:size]
    if before is not None:
        rows.reverse()
        newer = cursor_of(rows[0]) if has_more and rows else None
        return PartialPage(rows, newer, cursor_of(rows[-1]) if rows else None)
    newer = cursor_of(rows[0]) if after is not None and rows else None
    return PartialPage(rows, newer, cursor_of(rows[-1]) if has_more else None)


def count_in_progress(form: Form, now: datetime | None = None) -> int:
    query = select(func.count()).select_from(PartialResponse).where(*unexpired(form, now))
    return db.session.scalar(query) or 0


# --- the summary ------------------------------------------------------------------------------


@dataclass
class FlowSummary:
    """Over a period: respondents who finished (the summary's submissions: neither spam nor in
    the trash) and those still in progress (started in the period, not expired); and for a
    form with pages, how many of those in progress stand at each page."""

    completed: int
    in_progress: int
    stops: list[tuple[str, int]]  # (page label, partial responses there), in page order

    @property
    def started(self) -> int:
        return self.completed + self.in_progress

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.started if self.started else None


def summarize_flow(
    form: Form, completed: int, since: datetime, now: datetime | None = None
) -> FlowSummary | None:
    """The form's flow figures, when it has an In progress folder; None otherwise."""
    if not shows_in_progress(form):
        return None
    at_pages = _partials_per_page(form, since, now)
    in_progress = sum(at_pages.values())
    stops = _stops(form, at_pages) if has_pages(form) else []
    return FlowSummary(completed, in_progress, stops)


def _partials_per_page(
    form: Form, since: datetime, now: datetime | None
) -> Counter[tuple[int, str | None]]:
    """Partial responses started since ``since``, by version and the page they are at: one
    GROUP BY over the form's partials, by path (few distinct ones)."""
    query = (
        select(PartialResponse.version_id, json_text(PartialResponse.path), func.count())
        .where(*unexpired(form, now), PartialResponse.created_at >= since)
        .group_by(PartialResponse.version_id, json_text(PartialResponse.path))
    )
    counts: Counter[tuple[int, str | None]] = Counter()
    for version_id, path_text, count in db.session.execute(query).tuples():
        path = decode_json(path_text)
        counts[version_id, path[-1] if isinstance(path, list) and path else None] += count
    return counts


def _stops(form: Form, at_pages: Counter[tuple[int, str | None]]) -> list[tuple[str, int]]:
    """Each page of the published version with how many stand there (none too), then pages
    only older versions had, by their id."""
    current = version_flow(form.published_version_id)
    by_page: Counter[str] = Counter()
    for (version_id, page_id), count in at_pages.items():
        by_page[reached_at(version_id, page_id).id] += count
    stops = [
        (str(page_reached(current, page.id)), by_page.pop(page.id, 0)) for page in current.pages
    ]
    checking = by_page.pop(CHECK_ANSWERS, 0)
    if checking:
        stops.append(("Checking their answers", checking))
    stops += [(f"{page_id} (an earlier version)", count) for page_id, count in by_page.items()]
    return stops
