"""A form's summary: submissions and views per day, and each question's answers in numbers.

Everything is counted by the database. Submissions and views are grouped by UTC hour there,
and the hours are put into the user's days here, which is exact in every time zone with
whole-hour offsets. The questions' counts come from one aggregate query over the stored
answers; numbers add one query each for their distribution.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement
from sqlalchemy import Float
from sqlalchemy import Integer
from sqlalchemy import case
from sqlalchemy import cast
from sqlalchemy import func
from sqlalchemy import not_
from sqlalchemy import select

from app.extensions import db
from app.fields import FIELD_TYPES
from app.fields.number import format_number
from app.models import Form
from app.models import FormViewCount
from app.models import Submission
from app.models.types import utcnow
from app.services.inbox import Column
from app.services.inbox import columns_for
from app.services.inbox import local_midnight
from app.services.inbox import versions_of

PERIODS = (30, 90, 365)
DISTINCT_LIMIT = 2000  # a number question with more distinct values is bucketed by the database
HISTOGRAM_BUCKETS = 10
RATING_SCALES = {"stars": range(1, 6), "nps": range(0, 11)}


@dataclass
class DayCount:
    day: date
    submissions: int = 0
    views: int = 0


@dataclass
class QuestionSummary:
    key: str
    label: str
    kind: str  # choices, numeric, nps or text
    answered: int = 0
    bars: list[tuple[str, int]] = field(default_factory=list)
    mean: float | None = None
    median: float | None = None
    nps: int | None = None
    promoters: int = 0
    passives: int = 0
    detractors: int = 0


@dataclass
class Summary:
    days: int
    per_day: list[DayCount]
    questions: list[QuestionSummary]

    @property
    def submissions(self) -> int:
        return sum(point.submissions for point in self.per_day)

    @property
    def views(self) -> int:
        return sum(point.views for point in self.per_day)

    @property
    def completion_rate(self) -> float | None:
        """Submissions per view, where views were counted."""
        return self.submissions / self.views if self.views else None


def summarize(form: Form, days: int, zone: ZoneInfo, now: datetime | None = None) -> Summary:
    days = days if days in PERIODS else PERIODS[0]
    today = (now or utcnow()).astimezone(zone).date()
    first_day = today - timedelta(days=days - 1)
    start = local_midnight(first_day, zone)
    per_day = {
        first_day + timedelta(days=n): DayCount(first_day + timedelta(days=n)) for n in range(days)
    }
    for hour, count in _submissions_per_hour(form, start):
        point = per_day.get(hour.astimezone(zone).date())
        if point is not None:
            point.submissions += count
    for hour, views in _views_per_hour(form, start):
        point = per_day.get(hour.astimezone(zone).date())
        if point is not None:
            point.views += views
    return Summary(days, list(per_day.values()), summarize_questions(form, start))


def _in_period(form: Form, start: datetime) -> list[ColumnElement]:
    return [
        Submission.form_id == form.id,
        not_(Submission.is_spam),
        Submission.deleted_at.is_(None),
        Submission.created_at >= start,
    ]


def _submissions_per_hour(form: Form, start: datetime) -> list[tuple[datetime, int]]:
    if _is_postgresql():
        hour = func.date_trunc("hour", func.timezone("UTC", Submission.created_at))
    else:
        # Stored as "YYYY-MM-DD HH:MM:SS.ffffff" in UTC: the first 13 characters are the hour.
        hour = func.substr(Submission.created_at, 1, 13)
    rows = db.session.execute(
        select(hour.label("hour"), func.count()).where(*_in_period(form, start)).group_by(hour)
    )
    return [(_hour_start(value), count) for value, count in rows.tuples()]


def _hour_start(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC)
    return datetime.strptime(value, "%Y-%m-%d %H").replace(tzinfo=UTC)


def _views_per_hour(form: Form, start: datetime) -> list[tuple[datetime, int]]:
    rows = db.session.execute(
        select(FormViewCount.hour, FormViewCount.views).where(
            FormViewCount.form_id == form.id,
            FormViewCount.hour >= start - timedelta(hours=1),
        )
    )
    return [(hour, views) for hour, views in rows.tuples() if hour >= start - timedelta(hours=1)]


# --- questions ---------------------------------------------------------------------------------


def _is_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def answer_number(key: str) -> ColumnElement:
    if _is_postgresql():
        is_number = func.jsonb_typeof(Submission.answers[key]) == "number"
        return case((is_number, cast(Submission.answers[key].as_string(), Float)))
    kind = func.json_type(Submission.answers, f"$.{key}")
    return case((kind.in_(("integer", "real")), func.json_extract(Submission.answers, f"$.{key}")))


def answer_given(key: str) -> ColumnElement[bool]:
    if _is_postgresql():
        return func.coalesce(Submission.answers[key].as_string(), "") != ""
    value = func.json_extract(Submission.answers, f"$.{key}")
    return func.coalesce(value, "") != ""


def summarize_questions(form: Form, start: datetime) -> list[QuestionSummary]:
    """One summary per question that has one; text questions share one counting query."""
    versions = versions_of(form) if not form.is_endpoint else {}
    summaries: list[QuestionSummary] = []
    texts: list[QuestionSummary] = []
    for column in columns_for(form, versions):
        kind = _kind_of(column)
        if kind is None:
            continue
        summary = QuestionSummary(column.key, column.label, kind)
        summaries.append(summary)
        if kind == "text":
            texts.append(summary)
        elif kind == "numeric" and column.spec.type == "number":
            _summarize_number(form, start, summary)
        else:
            _summarize_values(form, start, summary, column, versions)
    _count_answered(form, start, texts)
    return summaries


def _kind_of(column: Column) -> str | None:
    if column.spec is None:
        return "text"
    return FIELD_TYPES[column.spec.type].summary_for(column.spec)


def _count_answered(form: Form, start: datetime, summaries: list[QuestionSummary]) -> None:
    if not summaries:
        return
    counts = [
        func.coalesce(func.sum(case((answer_given(summary.key), 1), else_=0)), 0)
        for summary in summaries
    ]
    row = db.session.execute(select(*counts).where(*_in_period(form, start))).one()
    for summary, count in zip(summaries, row, strict=True):
        summary.answered = int(count)


def _stored_values(form: Form, start: datetime, key: str) -> list[tuple[Any, int]]:
    """Each stored answer to ``key`` (a list of checkboxes counts as one) with its count."""
    value = Submission.answers[key]
    query = (
        select(value, func.count())
        .where(*_in_period(form, start), value.is_not(None))
        .group_by(value)
        .limit(DISTINCT_LIMIT)
    )
    return [(stored, count) for stored, count in db.session.execute(query).tuples()]


def _summarize_values(
    form: Form, start: datetime, summary: QuestionSummary, column: Column, versions: dict
) -> None:
    """Choices, consent and ratings: the database counts each stored answer once; options
    never picked show as 0, and checkbox lists add to each option they hold."""
    counts: Counter[Any] = Counter()
    for stored, count in _stored_values(form, start, column.key):
        if stored is None or stored == "" or stored == []:
            continue
        summary.answered += count
        for item in stored if isinstance(stored, list) else [stored]:
            counts[item] += count
    if summary.kind in ("numeric", "nps"):
        scale = RATING_SCALES["nps" if summary.kind == "nps" else "stars"]
        summary.bars = [(str(point), counts.get(point, 0)) for point in scale]
        _set_distribution_stats(summary, [(point, counts.get(point, 0)) for point in scale])
        if summary.kind == "nps":
            _set_nps(summary, [counts.get(point, 0) for point in scale])
        return
    options = _choice_options(column, versions)
    summary.bars = [(label, counts.pop(value, 0)) for value, label in options]
    summary.bars += [(str(value), count) for value, count in counts.items()]


def _set_nps(summary: QuestionSummary, counts: list[int]) -> None:
    total = sum(counts)
    summary.promoters = sum(counts[9:])
    summary.detractors = sum(counts[:7])
    summary.passives = total - summary.promoters - summary.detractors
    if total:
        summary.nps = round(100 * (summary.promoters - summary.detractors) / total)


def _choice_options(column: Column, versions: dict) -> list[tuple[Any, str]]:
    """Every option any version offered (the newest label wins); Yes/No for consent."""
    if column.spec.type == "consent":
        return [(True, "Yes"), (False, "No")]
    options: dict[str, str] = {}
    for _number, specs in versions.values():
        spec = specs.get(column.key)
        for choice in spec.rules.get("choices", []) if spec is not None else []:
            options.setdefault(choice["value"], choice["label"])
    return list(options.items())


def _set_distribution_stats(summary: QuestionSummary, counts: list[tuple[float, int]]) -> None:
    total = sum(count for _value, count in counts)
    if not total:
        return
    summary.mean = sum(value * count for value, count in counts) / total
    summary.median = median_of(counts)


def median_of(counts: list[tuple[float, int]]) -> float | None:
    """The median of values given with their counts, sorted by value."""
    total = sum(count for _value, count in counts)
    if not total:
        return None
    middle = [(total - 1) // 2, total // 2]
    found: list[float] = []
    seen = 0
    for value, count in counts:
        while len(found) < 2 and middle[len(found)] < seen + count:
            found.append(value)
        seen += count
    return (found[0] + found[1]) / 2


def _summarize_number(form: Form, start: datetime, summary: QuestionSummary) -> None:
    """A number question: its exact distribution when it has few distinct values, else
    buckets and a median computed by the database."""
    number = answer_number(summary.key)
    conditions = [*_in_period(form, start), number.is_not(None)]
    distribution = db.session.execute(
        select(number.label("value"), func.count())
        .where(*conditions)
        .group_by(number)
        .order_by(number)
        .limit(DISTINCT_LIMIT + 1)
    ).all()
    if len(distribution) <= DISTINCT_LIMIT:
        counts = [(float(value), count) for value, count in distribution]
        summary.answered = sum(count for _value, count in counts)
        _set_distribution_stats(summary, counts)
        summary.bars = histogram(counts)
        return
    stats = db.session.execute(
        select(func.count(number), func.avg(number), func.min(number), func.max(number)).where(
            *conditions
        )
    ).one()
    total, mean, low, high = stats
    summary.answered = total
    summary.mean = float(mean)
    summary.median = _database_median(conditions, number, total)
    summary.bars = _database_histogram(conditions, number, float(low), float(high))


def histogram(counts: list[tuple[float, int]]) -> list[tuple[str, int]]:
    """Bars for a distribution: one per value when there are few whole values, else ten
    equal ranges from the smallest to the largest."""
    if not counts:
        return []
    if len(counts) <= 20 and all(float(value).is_integer() for value, _ in counts):
        return [(format_number(value), count) for value, count in counts]
    low, high = counts[0][0], counts[-1][0]
    width = (high - low) / HISTOGRAM_BUCKETS
    bars = [0] * HISTOGRAM_BUCKETS
    for value, count in counts:
        bars[min(int((value - low) / width), HISTOGRAM_BUCKETS - 1)] += count
    return [(_range_label(low, width, index), bars[index]) for index in range(HISTOGRAM_BUCKETS)]


def _range_label(low: float, width: float, index: int) -> str:
    start, end = low + index * width, low + (index + 1) * width
    return f"{format_number(round(start, 2))} to {format_number(round(end, 2))}"


def _database_median(conditions, number, total: int) -> float:
    middle = (total - 1) // 2
    values = db.session.scalars(
        select(number).where(*conditions).order_by(number).offset(middle).limit(2 - total % 2)
    ).all()
    return sum(float(value) for value in values) / len(values)


def _database_histogram(conditions, number, low: float, high: float) -> list[tuple[str, int]]:
    width = (high - low) / HISTOGRAM_BUCKETS or 1
    position = (number - low) / width
    bucket = func.floor(position) if _is_postgresql() else cast(position, Integer)
    bucket = case((bucket >= HISTOGRAM_BUCKETS, HISTOGRAM_BUCKETS - 1), else_=bucket)
    result = db.session.execute(select(bucket, func.count()).where(*conditions).group_by(bucket))
    rows = {int(index): count for index, count in result}
    return [
        (_range_label(low, width, index), int(rows.get(index, 0)))
        for index in range(HISTOGRAM_BUCKETS)
    ]
