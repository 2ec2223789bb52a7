"""Reading submissions: who may see which, the inbox's filters, columns and keyset pages.

A page is found by a cursor (the received time and id of the last row shown), never by an
offset, so page 10,000 costs what page 1 costs and rows arriving meanwhile shift nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any
from typing import Literal
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import not_
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import tuple_
from sqlalchemy.dialects.postgresql import JSONB
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.fields import FIELD_TYPES
from app.fields import FieldSpec
from app.fields import display_answer
from app.models import EndpointKey
from app.models import Form
from app.models import FormVersion
from app.models import Submission
from app.models import User
from app.models.types import MAX_BIG_ID
from app.services.errors import NotFound
from app.services.forms import Action
from app.services.forms import check_allowed
from app.services.forms import get_form_for
from app.services.search import matches_search
from app.services.submissions import specs_for

Folder = Literal["inbox", "spam", "trash"]
FOLDERS: tuple[Folder, ...] = ("inbox", "spam", "trash")
PAGE_SIZE = 50
CHOICE_TYPES = {"single_choice", "dropdown", "multiple_choice"}
CHOICE_PREFIX = "f."
KEY_PATTERN = re.compile(r"[A-Za-z0-9_]{1,100}")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Days a filter may name: a day away from datetime's limits, whatever the time zone.
FIRST_DAY = date(2, 1, 1)
LAST_DAY = date(9998, 12, 31)


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


# --- columns ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One answer column: a field of any version (removed ones keep their last label)."""

    key: str
    label: str
    spec: FieldSpec | None
    removed: bool = False

    @property
    def is_choice(self) -> bool:
        return self.spec is not None and self.spec.type in CHOICE_TYPES

    @property
    def choices(self) -> list[dict[str, str]]:
        return list(self.spec.rules.get("choices", [])) if self.spec is not None else []


def versions_of(form: Form) -> dict[int, tuple[int, dict[str, FieldSpec]]]:
    """Each version's number and fields by key, newest version first."""
    versions = db.session.scalars(
        select(FormVersion)
        .where(FormVersion.form_id == form.id)
        .order_by(FormVersion.number.desc())
    )
    return {
        version.id: (version.number, {spec.key: spec for spec in specs_for(version)})
        for version in versions
    }


def columns_for(form: Form, versions: dict | None = None) -> list[Column]:
    """Answer columns: the newest version's fields in order, then fields only older ones had."""
    if form.is_endpoint:
        keys = db.session.scalars(
            select(EndpointKey.key)
            .where(EndpointKey.form_id == form.id)
            .order_by(EndpointKey.first_seen_at, EndpointKey.key)
        )
        return [Column(key, key, None) for key in keys]
    columns: dict[str, Column] = {}
    for index, (_number, specs) in enumerate((versions or versions_of(form)).values()):
        for spec in specs.values():
            if spec.key not in columns and FIELD_TYPES[spec.type].takes_answer:
                columns[spec.key] = Column(spec.key, spec.label, spec, removed=index > 0)
    return list(columns.values())


# --- filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxFilter:
    """What the list shows; it lives in the URL so a view can be bookmarked and shared."""

    folder: Folder = "inbox"
    query: str = ""
    since: date | None = None
    until: date | None = None
    read: Literal["", "read", "unread"] = ""
    starred: bool = False
    choices: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    @classmethod
    def from_args(cls, args: MultiDict, columns: list[Column] | None = None) -> InboxFilter:
        folder = args.get("folder", "inbox")
        read = args.get("read", "")
        choice_keys = {column.key for column in columns or [] if column.is_choice}
        choices = []
        for name in sorted(set(args)):
            key = name[len(CHOICE_PREFIX) :]
            if name.startswith(CHOICE_PREFIX) and key in choice_keys:
                values = tuple(dict.fromkeys(v for v in args.getlist(name) if v))
                if values:
                    choices.append((key, values))
        return cls(
            folder=folder if folder in FOLDERS else "inbox",
            query=args.get("q", "").strip()[:500],
            since=_parse_day(args.get("from")),
            until=_parse_day(args.get("to")),
            read=read if read in ("read", "unread") else "",
            starred=args.get("starred") == "1",
            choices=tuple(choices),
        )

    @staticmethod
    def unknown_choice_filters(args: MultiDict, columns: list[Column]) -> list[str]:
        """The ``f.<key>`` arguments naming no choice question of the form. The page leaves
        them out; the API refuses them, so a misspelt filter never passes for no filter."""
        choice_keys = {column.key for column in columns if column.is_choice}
        return [
            name
            for name in args
            if name.startswith(CHOICE_PREFIX) and name[len(CHOICE_PREFIX) :] not in choice_keys
        ]

    def to_args(self) -> dict[str, Any]:
        """Query-string arguments that rebuild this filter (defaults left out)."""
        args: dict[str, Any] = {}
        if self.folder != "inbox":
            args["folder"] = self.folder
        if self.query:
            args["q"] = self.query
        if self.since:
            args["from"] = self.since.isoformat()
        if self.until:
            args["to"] = self.until.isoformat()
        if self.read:
            args["read"] = self.read
        if self.starred:
            args["starred"] = "1"
        for key, values in self.choices:
            args[CHOICE_PREFIX + key] = list(values)
        return args

    def chosen(self, key: str) -> tuple[str, ...]:
        return dict(self.choices).get(key, ())

    def in_folder(self, folder: Folder) -> InboxFilter:
        return replace(self, folder=folder)

    @property
    def is_narrowed(self) -> bool:
        """Whether anything beyond the folder is chosen."""
        return self != InboxFilter(folder=self.folder)


def _parse_day(value: str | None) -> date | None:
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return day if day is None or FIRST_DAY <= day <= LAST_DAY else None


def filter_conditions(form: Form, chosen: InboxFilter, zone: ZoneInfo) -> list[ColumnElement]:
    """WHERE conditions for ``chosen``. The folder's are written as the partial indexes'."""
    conditions: list[ColumnElement] = [Submission.form_id == form.id]
    if chosen.folder == "trash":
        conditions.append(Submission.deleted_at.is_not(None))
    else:
        spam = Submission.is_spam if chosen.folder == "spam" else not_(Submission.is_spam)
        conditions += [spam, Submission.deleted_at.is_(None)]
    if chosen.read:
        conditions.append(Submission.is_read if chosen.read == "read" else not_(Submission.is_read))
    if chosen.starred:
        conditions.append(Submission.is_starred)
    if chosen.since:
        conditions.append(Submission.created_at >= local_midnight(chosen.since, zone))
    if chosen.until:
        next_day = chosen.until + timedelta(days=1)
        conditions.append(Submission.created_at < local_midnight(next_day, zone))
    for key, values in chosen.choices:
        conditions.append(or_(*(answer_includes(key, value) for value in values)))
    if chosen.query:
        searched = matches_search(chosen.query)
        if searched is not None:
            conditions.append(searched)
    return conditions


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def answer_includes(key: str, value: str) -> ColumnElement[bool]:
    """The answer to ``key`` is ``value``, or a list (checkboxes) that holds it."""
    if not KEY_PATTERN.fullmatch(key):
        raise NotFound("No such field.")
    if db.engine.dialect.name == "postgresql":
        return Submission.answers[key].op("@>")(bindparam(None, value, type_=JSONB))
    # json_each walks a list's items, or yields a lone value once.
    picked = func.json_each(Submission.answers, f"$.{key}").table_valued("value")
    return exists(select(literal_column("1")).select_from(picked).where(picked.c.value == value))


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
    query = filtered(form, chosen, zone)
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


# --- what a row shows ------------------------------------------------------------------------


def spec_for(
    versions: dict[int, tuple[int, dict[str, FieldSpec]]], submission: Submission, column: Column
) -> FieldSpec | None:
    """The field as it was asked in the submission's version (its label and options then)."""
    if submission.version_id in versions:
        return versions[submission.version_id][1].get(column.key, column.spec)
    return column.spec


def cell_text(
    versions: dict[int, tuple[int, dict[str, FieldSpec]]], submission: Submission, column: Column
) -> str:
    value = submission.answers.get(column.key)
    return display_answer(value, spec_for(versions, submission, column))


@dataclass
class Answer:
    key: str
    label: str
    text: str
    file: dict[str, Any] | None = None


def answers_of(form: Form, submission: Submission) -> list[Answer]:
    """Every answer with the label it was asked under, in the order of its version."""
    versions = versions_of(form)
    specs = versions[submission.version_id][1] if submission.version_id in versions else {}
    shown: list[Answer] = []
    for key, spec in specs.items():
        if FIELD_TYPES[spec.type].takes_answer:
            shown.append(_answer(key, spec.label, submission.answers.get(key), spec))
    for key, value in submission.answers.items():
        if key not in specs:
            shown.append(_answer(key, key, value, None))
    return shown


def _answer(key: str, label: str, value: Any, spec: FieldSpec | None) -> Answer:
    is_file = isinstance(value, dict) and "file_id" in value
    return Answer(key, label, display_answer(value, spec), value if is_file else None)


def version_number(form: Form, submission: Submission) -> int | None:
    if submission.version_id is None:
        return None
    return db.session.scalar(
        select(FormVersion.number).where(FormVersion.id == submission.version_id)
    )


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


def and_all(conditions: list[ColumnElement]) -> ColumnElement[bool]:
    return and_(*conditions)
