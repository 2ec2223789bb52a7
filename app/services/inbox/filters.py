"""The inbox's folders and filters, as SQL conditions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement
from sqlalchemy import bindparam
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import not_
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import JSONB
from werkzeug.datastructures import MultiDict

from app.database import is_postgresql
from app.exceptions import NotFound
from app.models import Form
from app.models import Submission
from app.models import SubmissionTag
from app.models import Tag
from app.services.inbox.columns import Column
from app.services.submissions.search import matches_search

Folder = Literal["inbox", "spam", "trash"]
FOLDERS: tuple[Folder, ...] = ("inbox", "spam", "trash")
CHOICE_PREFIX = "f."
KEY_PATTERN = re.compile(r"[A-Za-z0-9_]{1,100}")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Days a filter may name: a day away from datetime's limits, whatever the time zone.
FIRST_DAY = date(2, 1, 1)
LAST_DAY = date(9998, 12, 31)
MAX_TAG_FILTERS = 20
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
    tags: tuple[str, ...] = ()  # any of these

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
            tags=tuple(dict.fromkeys(_tag_name(v) for v in args.getlist("tag") if v.strip()))[
                :MAX_TAG_FILTERS
            ],
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
        if self.tags:
            args["tag"] = list(self.tags)
        return args

    def chosen(self, key: str) -> tuple[str, ...]:
        return dict(self.choices).get(key, ())

    @property
    def is_narrowed(self) -> bool:
        """Whether anything beyond the folder is chosen."""
        return self != InboxFilter(folder=self.folder)


def _tag_name(value: str) -> str:
    """As tags are stored (tagging.normalise_tag), so a filter finds what was typed."""
    return " ".join(value.split()).lower()[:100]


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
    if chosen.tags:
        conditions.append(has_any_tag(form, chosen.tags))
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
    if is_postgresql():
        return Submission.answers[key].op("@>")(bindparam(None, value, type_=JSONB))
    # json_each walks a list's items, or yields a lone value once.
    picked = func.json_each(Submission.answers, f"$.{key}").table_valued("value")
    return exists(select(literal_column("1")).select_from(picked).where(picked.c.value == value))


def has_any_tag(form: Form, names: tuple[str, ...]) -> ColumnElement[bool]:
    """The submission carries one of these tags: read from the (tag_id, submission_id) index
    of the few tags named, so the filter costs what the tagged rows cost."""
    # Equalities, not IN: the export compiles the statement for its driver itself
    # (row_text.raw_batches), and an IN list's parameters are expanded apart from the rest.
    named = or_(*(Tag.name == name for name in names))
    tag_ids = select(Tag.id).where(Tag.form_id == form.id, named)
    tagged = select(SubmissionTag.submission_id).where(SubmissionTag.tag_id.in_(tag_ids))
    return Submission.id.in_(tagged)
