"""A form's summary: submissions and views per day, and each question's answers in numbers.

Everything comes from counts kept as submissions come and go (services.inbox.rollups): per UTC hour
for the submissions, per UTC day for the answers, so a year of a million submissions reads a
few tens of thousands of counters whatever the number of rows. The hours are put into the
user's days here, which is exact in every time zone with whole-hour offsets. When the user's
first midnight is not a UTC midnight, the answers of that first partial UTC day (under 24 hours
of submissions) are counted from the stored rows, by the same code that keeps the rollups.

Precision: counts, means, smallest and largest are exact. A number's median comes from its
fine buckets (three significant digits): exact when the middle answers have at most three
significant digits (every whole number under 1,000, 4.5, 19.9), else within 1% of the true
median; beyond ``DISTINCT_LIMIT`` distinct values the histogram's ten ranges place each bucket
by its mean, so a bucket astride a range's edge (at most 1% wide) counts in one range only.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import select

from app.extensions import db
from app.fields import FIELD_TYPES
from app.fields.number import format_number
from app.models import Form
from app.models import FormViewCount
from app.models import SummaryRollup
from app.models.rollup import ANSWERED
from app.models.rollup import HOURS_KEY
from app.models.types import utcnow
from app.services.forms.view_counts import store_views_before_reading
from app.services.inbox import rollups
from app.services.inbox.columns import Column
from app.services.inbox.columns import columns_for
from app.services.inbox.columns import versions_of
from app.services.inbox.filters import local_midnight
from app.services.inbox.latest_answers import latest_answers
from app.services.inbox.progress import FlowSummary
from app.services.inbox.progress import summarize_flow

PERIODS = (30, 90, 365)
DISTINCT_LIMIT = 2000  # a number question with more distinct values gets ten equal ranges
HISTOGRAM_BUCKETS = 10
RATING_SCALES = {"stars": range(1, 6), "nps": range(0, 11)}
# The rollup cells of one question: value -> [count, sum, smallest, largest].
Cells = dict[str, list[Any]]


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
    latest: list[str] = field(default_factory=list)  # a text question's newest answers

    @property
    def shares(self) -> list[tuple[str, int, float]]:
        """Each bar with its share of the answers; checkbox shares may add up past 100%."""
        answered = self.answered or sum(count for _label, count in self.bars)
        return [(label, count, count / answered if answered else 0.0) for label, count in self.bars]


@dataclass
class Summary:
    days: int
    per_day: list[DayCount]
    questions: list[QuestionSummary]
    # Started, completed and where people stop, for a form with pages or saving.
    flow: FlowSummary | None = None

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
    # Count what arrived since the last batch first, and this process's views not yet
    # stored, so the summary includes them.
    if rollups.catch_up(form.id):
        db.session.commit()
    store_views_before_reading()
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
    result = Summary(days, list(per_day.values()), summarize_questions(form, start))
    result.flow = summarize_flow(form, result.submissions, start, now)
    return result


def _submissions_per_hour(form: Form, start: datetime) -> list[tuple[datetime, int]]:
    rows = db.session.execute(
        select(SummaryRollup.day, SummaryRollup.value, SummaryRollup.count).where(
            SummaryRollup.form_id == form.id,
            SummaryRollup.day >= start.date(),
            SummaryRollup.field_key == HOURS_KEY,
            SummaryRollup.count > 0,
        )
    )
    hours = [
        (datetime.combine(day, time(int(hour)), UTC), count) for day, hour, count in rows.tuples()
    ]
    return [(hour, count) for hour, count in hours if hour >= start]


def _views_per_hour(form: Form, start: datetime) -> list[tuple[datetime, int]]:
    rows = db.session.execute(
        select(FormViewCount.hour, FormViewCount.views).where(
            FormViewCount.form_id == form.id,
            FormViewCount.hour >= start - timedelta(hours=1),
        )
    )
    return [(hour, views) for hour, views in rows.tuples() if hour >= start - timedelta(hours=1)]


# --- questions ---------------------------------------------------------------------------------


def answer_cells(form: Form, start: datetime) -> dict[str, Cells]:
    """The rollup cells of every question from ``start`` on: whole UTC days summed by the
    database, and the hours before the first whole day counted from their rows."""
    whole_days = start.date() if start.time() == time() else start.date() + timedelta(days=1)
    rows = db.session.execute(
        select(
            SummaryRollup.field_key,
            SummaryRollup.value,
            func.sum(SummaryRollup.count),
            func.sum(SummaryRollup.total),
            func.min(SummaryRollup.low),
            func.max(SummaryRollup.high),
        )
        .where(
            SummaryRollup.form_id == form.id,
            SummaryRollup.day >= whole_days,
            SummaryRollup.field_key != HOURS_KEY,
            SummaryRollup.count > 0,
        )
        .group_by(SummaryRollup.field_key, SummaryRollup.value)
    )
    cells: dict[str, Cells] = {}
    for key, value, *cell in rows.tuples():
        cells.setdefault(key, {})[value] = cell
    whole_start = datetime.combine(whole_days, time(), UTC)
    if start < whole_start:
        _add_rows_before(cells, form.id, start, whole_start)
    return cells


def _add_rows_before(cells: dict[str, Cells], form_id: int, start: datetime, end: datetime) -> None:
    tally = rollups.Tally(form_id)
    keys = rollups.choice_keys_by_version(form_id)
    for rows in rollups.counted_rows(form_id, since=start, until=end):
        rollups.tally_rows(tally, rows, keys)
    for (_day, key, value), count, total, low, high in tally.cells():
        if key == HOURS_KEY:
            continue
        cell = cells.setdefault(key, {}).setdefault(value, [0, 0.0, None, None])
        cell[0] += count
        cell[1] += total
        if low is not None:
            cell[2] = low if cell[2] is None else min(cell[2], low)
            cell[3] = high if cell[3] is None else max(cell[3], high)


def summarize_questions(form: Form, start: datetime) -> list[QuestionSummary]:
    """One summary per question that has one."""
    versions = versions_of(form) if not form.is_endpoint else {}
    cells = answer_cells(form, start)
    summaries: list[QuestionSummary] = []
    text_columns: list[Column] = []
    for column in columns_for(form, versions):
        kind = _kind_of(column)
        if kind is None:
            continue
        summary = QuestionSummary(column.key, column.label, kind)
        summaries.append(summary)
        question = cells.get(column.key, {})
        if kind == "text":
            summary.answered = int(question.get(ANSWERED, [0])[0])
            text_columns.append(column)
        elif kind == "numeric" and column.spec.type == "number":
            _summarize_number(summary, question)
        else:
            _summarize_values(summary, question, column, versions)
    latest = latest_answers(form, text_columns, start, versions)
    for summary in summaries:
        summary.latest = latest.get(summary.key, [])
    return summaries


def _kind_of(column: Column) -> str | None:
    if column.spec is None:
        return "text"
    return FIELD_TYPES[column.spec.type].summary_for(column.spec)


def _summarize_values(
    summary: QuestionSummary, question: Cells, column: Column, versions: dict
) -> None:
    """Choices, consent and ratings: each value's count; options never picked show as 0, and
    checkbox lists add to each option they hold."""
    counts: Counter[Any] = Counter()
    for value, cell in question.items():
        if value != ANSWERED:
            counts[json.loads(value)] += int(cell[0])
    summary.answered = int(question.get(ANSWERED, [0])[0])
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


def _summarize_number(summary: QuestionSummary, question: Cells) -> None:
    """A number question from its fine buckets: exact count, mean and bounds; the median and
    the bars exact where each bucket holds one value (see the module's note on precision)."""
    buckets = sorted(
        (_bucket_value(cell), int(cell[0]), cell)
        for value, cell in question.items()
        if value != ANSWERED and cell[2] is not None
    )
    if not buckets:
        return
    points = [(value, count) for value, count, _cell in buckets]
    summary.answered = sum(count for _value, count in points)
    summary.mean = sum(cell[1] for _value, _count, cell in buckets) / summary.answered
    summary.median = median_of(points)
    exact = all(cell[2] == cell[3] for _value, _count, cell in buckets)
    if exact and len(points) <= DISTINCT_LIMIT:
        summary.bars = histogram(points)
    else:
        low = min(cell[2] for _value, _count, cell in buckets)
        high = max(cell[3] for _value, _count, cell in buckets)
        summary.bars = range_bars(points, low, high)


def _bucket_value(cell: list[Any]) -> float:
    """The one value of a bucket, or its mean kept within its bounds."""
    count, total, low, high = cell
    if low == high:
        return float(low)
    return min(max(total / count, low), high)


def histogram(counts: list[tuple[float, int]]) -> list[tuple[str, int]]:
    """Bars for a distribution: one per value when there are few whole values, else ten
    equal ranges from the smallest to the largest."""
    if not counts:
        return []
    if len(counts) <= 20 and all(float(value).is_integer() for value, _ in counts):
        return [(format_number(value), count) for value, count in counts]
    return range_bars(counts, counts[0][0], counts[-1][0])


def range_bars(counts: list[tuple[float, int]], low: float, high: float) -> list[tuple[str, int]]:
    width = (high - low) / HISTOGRAM_BUCKETS or 1
    bars = [0] * HISTOGRAM_BUCKETS
    for value, count in counts:
        bars[min(max(int((value - low) / width), 0), HISTOGRAM_BUCKETS - 1)] += count
    return [(_range_label(low, width, index), bars[index]) for index in range(HISTOGRAM_BUCKETS)]


def _range_label(low: float, width: float, index: int) -> str:
    start, end = low + index * width, low + (index + 1) * width
    return f"{format_number(round(start, 2))} to {format_number(round(end, 2))}"
