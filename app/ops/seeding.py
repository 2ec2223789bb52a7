"""Realistic submissions in bulk, for demos and the benchmarks: ``flask submissions seed``.

Answers follow each field's type and rules; times spread over the last ``days`` days, older
ones read, a few starred, spam or in the trash; the page's views are filled in too. Made for
a million rows (bench/README.md has the time): pre-encoded rows, executemany in large batches
inside one transaction, the search index brought up to date in one statement at the end, and
PostgreSQL's COPY. The summary rollups are counted as the rows are made and
written in one batch at the end.
"""

# ruff: noqa: S608 -- SQL here is assembled from this module's constants, never from input.

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from app.database import is_postgresql
from app.exceptions import ValidationFailed
from app.extensions import db
from app.fields import FieldSpec
from app.models import Form
from app.models import FormVersion
from app.models import Submission
from app.models.search_index import index_through
from app.models.types import utcnow
from app.ops.demo_answers import AGENTS
from app.ops.demo_answers import ENDPOINT_FIELDS
from app.ops.demo_answers import EPOCH
from app.ops.demo_answers import REFERRERS
from app.ops.demo_answers import SeedResult
from app.ops.demo_answers import answerer_for
from app.services.forms.view_counts import add_view_counts
from app.services.inbox import rollups

BATCH = 20_000


def _version_and_specs(form: Form) -> tuple[int | None, list[FieldSpec]]:
    if form.is_endpoint:
        return None, ENDPOINT_FIELDS
    version = db.session.get(FormVersion, form.published_version_id or -1)
    if version is None:
        raise ValidationFailed("Publish the form before seeding it.", field="form")
    return version.id, version.specs


def generate_rows(
    form_id: int,
    version_id: int | None,
    specs: list[FieldSpec],
    count: int,
    days: int,
    now: datetime,
    seed: int = 1,
    tally: rollups.Tally | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Rows in column order of ``INSERT_COLUMNS``, oldest first, times as UTC text; the rows
    that count (neither spam nor trashed) are added to ``tally`` too.

    Written for speed: times are whole microseconds formatted by hand.
    """
    choice_keys = rollups.choice_keys(specs)
    answerers = [(spec.key, make) for spec in specs if (make := answerer_for(spec))]
    rng = random.Random(seed)  # noqa: S311 -- sample data, not secrets
    span = days * 86_400_000_000  # microseconds
    end = (now.astimezone(UTC) - EPOCH) // timedelta(microseconds=1)
    start = end - span
    week_ago = end - 7 * 86_400_000_000
    metas = [
        json.dumps(
            {"referrer": referrer, "user_agent": agent} if referrer else {"user_agent": agent}
        )
        for referrer in REFERRERS
        for agent in AGENTS
    ]
    clock = _Clock()
    for n, moment in enumerate(sorted(start + rng.randrange(span) for _ in range(count))):
        answers = {}
        for key, make in answerers:
            value = make(rng, n)
            if value is not None:
                answers[key] = value
        luck = rng.random()
        spam = luck < 0.015
        trashed = 0.035 <= luck < 0.037
        if tally is not None and not spam and not trashed:
            hours = moment // 3_600_000_000
            tally.add(clock.date(hours // 24), hours % 24, answers, choice_keys)
        yield (
            form_id,
            version_id,
            json.dumps(answers, ensure_ascii=False),
            metas[int(rng.random() * len(metas))],
            clock.text(moment),
            spam,
            "honeypot" if spam else None,
            moment < week_ago or luck > 0.7,
            0.015 <= luck < 0.035,
            clock.text(moment + 86_400_000_000) if trashed else None,
        )


class _Clock:
    """UTC text for microseconds since 1970, as stored: "YYYY-MM-DD HH:MM:SS.ffffff"."""

    def __init__(self) -> None:
        self.day = -1
        self.prefix = ""
        self.dates: dict[int, date] = {}

    def date(self, day: int) -> date:
        """The date of ``day`` days since 1970."""
        found = self.dates.get(day)
        if found is None:
            found = self.dates[day] = (EPOCH + timedelta(days=day)).date()
        return found

    def text(self, micros: int) -> str:
        seconds, fraction = divmod(micros, 1_000_000)
        day, seconds = divmod(seconds, 86_400)
        if day != self.day:
            self.day = day
            self.prefix = (EPOCH + timedelta(days=day)).strftime("%Y-%m-%d ")
        hour, seconds = divmod(seconds, 3600)
        minute, second = divmod(seconds, 60)
        return f"{self.prefix}{hour:02d}:{minute:02d}:{second:02d}.{fraction:06d}"


INSERT_COLUMNS = (
    "form_id, version_id, answers, meta, created_at, is_spam, spam_reason, is_read, "
    "is_starred, deleted_at"
)


def seed_submissions(form: Form, count: int, *, days: int = 365, seed: int = 1) -> SeedResult:
    """Add ``count`` submissions to ``form`` in one transaction, with views to match."""
    if count < 1 or days < 1:
        raise ValidationFailed("Give a count and a number of days of at least 1.", field="count")
    now = utcnow()
    form_id = form.id
    version_id, specs = _version_and_specs(form)
    # End the session's transaction: its snapshot would hide the rows written below.
    db.session.commit()
    tally = rollups.Tally(form_id)
    rows = generate_rows(form_id, version_id, specs, count, days, now, seed, tally)
    hours: Counter[str] = Counter()
    accepted = 0

    def counted(source):
        nonlocal accepted
        for row in source:
            if not row[5]:
                accepted += 1
                hours[row[4][:13]] += 1
            yield row

    if is_postgresql():
        _copy_postgresql(counted(rows))
    else:
        _insert_sqlite(counted(rows))
    _finish(form_id, accepted, hours, seed, tally)
    return SeedResult(db.session.get(Form, form_id), count)


def _insert_sqlite(rows: Iterator[tuple[Any, ...]]) -> None:
    connection = db.engine.raw_connection()
    dbapi = connection.driver_connection
    saved = dbapi.isolation_level
    dbapi.isolation_level = None  # explicit BEGIN and COMMIT below
    cursor = dbapi.cursor()
    try:
        # For this connection and this load only: a big cache, and no waiting for the disk
        # (a crash mid-seed loses the seed, which can simply run again).
        cursor.execute("PRAGMA cache_size=-262144")
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("BEGIN IMMEDIATE")
        placeholders = ", ".join("?" * 10)
        sql = f"INSERT INTO submissions ({INSERT_COLUMNS}) VALUES ({placeholders})"
        for batch in _batches(rows):
            cursor.executemany(sql, batch)
        # Every new row indexed for search in one batch, as a search would index them first.
        end = cursor.execute("SELECT max(id) FROM submissions").fetchone()[0]
        if end is not None:
            index_through(cursor.execute, end)
        cursor.execute("COMMIT")
        cursor.execute("ANALYZE")
    except BaseException:
        if dbapi.in_transaction:
            cursor.execute("ROLLBACK")
        raise
    finally:
        cursor.execute("PRAGMA cache_size=-2000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        dbapi.isolation_level = saved
        connection.close()


def _copy_postgresql(rows: Iterator[tuple[Any, ...]]) -> None:
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        with cursor.copy(f"COPY submissions ({INSERT_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                # Times are UTC; PostgreSQL would read text without a zone in its own.
                deleted_at = row[9] and f"{row[9]}+00"
                copy.write_row((*row[:4], f"{row[4]}+00", *row[5:9], deleted_at))
        cursor.execute("ANALYZE submissions")
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()


def _batches(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _finish(
    form_id: int, accepted: int, hours: Counter[str], seed: int, tally: rollups.Tally
) -> None:
    """Count the new submissions on the form and in its summary rollups (one transaction),
    and record plausible views for their hours."""
    last = db.session.scalar(
        select(func.max(Submission.created_at)).where(Submission.form_id == form_id)
    )
    db.session.execute(
        update(Form)
        .where(Form.id == form_id)
        .values(
            submission_count=Form.submission_count + accepted,
            last_submission_at=last,
            updated_at=Form.updated_at,
        )
    )
    tally.write()
    db.session.commit()
    rng = random.Random(seed)  # noqa: S311 -- sample data, not secrets
    add_view_counts(
        {
            (form_id, datetime.strptime(hour, "%Y-%m-%d %H").replace(tzinfo=UTC)): submitted
            + int(submitted * rng.uniform(1.5, 3.5))
            for hour, submitted in hours.items()
        }
    )
