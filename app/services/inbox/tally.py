"""A tally of answers per UTC day, field and value, and the upserts that add it to the rollups.

Numbers go into fine buckets: the number rounded to three significant digits, keeping the
count, sum, smallest and largest number of the bucket. A bucket whose smallest and largest are
equal holds one value exactly (every whole number under 1,000 has a bucket of its own);
otherwise it spans at most 1% of its numbers' size.
"""

# ruff: noqa: S608 -- SQL here is assembled from this module's constants, never from input.

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Collection
from collections.abc import Iterator
from datetime import UTC
from datetime import date
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Date
from sqlalchemy import text

from app.database import is_postgresql
from app.extensions import db
from app.fields.number import format_number
from app.models.rollup import ANSWERED
from app.models.rollup import HOURS_KEY
from app.models.rollup import MAX_VALUE_CHARS

SIGNIFICANT_DIGITS = 3
HOURS = tuple(f"{hour:02d}" for hour in range(24))
CACHE_LIMIT = 100_000  # remembered buckets and choice values, per tally

# One counter: (UTC day, field key, value).
Key = tuple[date, str, str]


def number_bucket(number: float) -> str:
    """The fine bucket of ``number``: itself rounded to three significant digits, as text."""
    if number == 0:
        return "0"
    digits = SIGNIFICANT_DIGITS - 1 - math.floor(math.log10(abs(number)))
    return format_number(round(number, digits))


class Tally:
    """Changes to one form's rollups, added up in memory and written in one statement.

    Written for speed, since seeding and rebuilding count every row: plain counts go into a
    Counter; a number whose bucket is exactly itself needs nothing more, and only the others
    keep a sum and bounds of their own.
    """

    def __init__(self, form_id: int) -> None:
        self.form_id = form_id
        self.days: dict[date, Counter[tuple[str, str]]] = {}
        self.exact: dict[Key, float] = {}
        self.inexact: dict[Key, list[Any]] = {}  # [sum, smallest, largest]
        self._buckets: dict[float, tuple[str, bool]] = {}
        self._choices: dict[str, str | None] = {}

    def add(
        self,
        day: date,
        hour: int,
        answers: dict[str, Any],
        choice_keys: Collection[str],
        sign: int = 1,
    ) -> None:
        """Count one submission (``sign`` -1: stop counting it)."""
        keys = [(HOURS_KEY, HOURS[hour])]
        append = keys.append
        for key, value in answers.items():
            kind = type(value)
            if kind is str:
                if value:
                    append((key, ANSWERED))
                    if key in choice_keys and (choice := self._choice_value(value)):
                        append((key, choice))
            elif kind is int or kind is float:
                append((key, ANSWERED))
                append(self._add_number(day, key, value, sign))
            elif kind is bool:
                append((key, ANSWERED))
                append((key, "true" if value else "false"))
            elif kind is list:
                if value:
                    append((key, ANSWERED))
                    if key in choice_keys:
                        keys += [
                            (key, choice) for item in value if (choice := self._choice_value(item))
                        ]
            elif value is not None:
                append((key, ANSWERED))
        counts = self.days.get(day)
        if counts is None:
            counts = self.days[day] = Counter()
        if sign > 0:
            counts.update(keys)
        else:
            counts.subtract(keys)

    def _add_number(self, day: date, key: str, number: float, sign: int) -> tuple[str, str]:
        found = self._buckets.get(number)
        if found is None:
            bucket = number_bucket(number)
            found = (bucket, float(bucket) == number)
            if len(self._buckets) < CACHE_LIMIT:
                self._buckets[number] = found
        if found[1]:
            self.exact[(day, key, found[0])] = number
            return key, found[0]
        cell = self.inexact.get((day, key, found[0]))
        if cell is None:
            cell = self.inexact[(day, key, found[0])] = [0.0, None, None]
        cell[0] += sign * number
        # Taking a number away leaves the bounds as they were: they still hold what is left.
        if sign > 0:
            cell[1] = number if cell[1] is None else min(cell[1], number)
            cell[2] = number if cell[2] is None else max(cell[2], number)
        return key, found[0]

    def _choice_value(self, item: Any) -> str | None:
        if not isinstance(item, str):
            return None
        found = self._choices.get(item, False)
        if found is False:
            found = json.dumps(item, ensure_ascii=False)
            found = found if len(found) <= MAX_VALUE_CHARS else None
            if len(self._choices) < CACHE_LIMIT:
                self._choices[item] = found
        return found

    def add_submission(
        self,
        created_at: datetime,
        answers: dict[str, Any],
        choice_keys: Collection[str],
        sign: int = 1,
    ) -> None:
        moment = created_at.astimezone(UTC)
        self.add(moment.date(), moment.hour, answers, choice_keys, sign)

    def cells(self) -> Iterator[tuple[Key, int, float, float | None, float | None]]:
        """Each changed counter with its count, sum, smallest and largest."""
        for day, counts in self.days.items():
            for (key, value), count in counts.items():
                if count or (day, key, value) in self.inexact:
                    yield self._cell((day, key, value), count)

    def _cell(self, counter: Key, count: int) -> tuple[Key, int, float, Any, Any]:
        if counter in self.exact:
            number = self.exact[counter]
            return counter, count, count * number, number, number
        if counter in self.inexact:
            return counter, count, *self.inexact[counter]
        return counter, count, 0.0, None, None

    def rows(self) -> list[tuple[Any, ...]]:
        """(form id, day, field key, value, count, sum, smallest, largest) of each counter, in
        the order of the table's key: every transaction then locks the rows it shares with
        another in the same order, so two of them never wait for each other."""
        return sorted(
            (self.form_id, day, key, value, count, total, low, high)
            for (day, key, value), count, total, low, high in self.cells()
        )

    def write(self) -> int:
        """Add the tally to the stored rollups, in the session's transaction; rows touched."""
        rows = self.rows()
        connection = db.session.connection()
        if rows and is_postgresql(connection):
            _write_postgresql(connection, self.form_id, rows)
        elif rows:
            _write_sqlite(connection, rows)
        self.days.clear()
        self.exact.clear()
        self.inexact.clear()
        return len(rows)


# Written as text: SQLAlchemy does not cache the compiled form of its ON CONFLICT construct,
# and compiling it for every submission cost more than the upsert itself. One statement for
# many rows, because a statement's round trip costs more than its rows.
COLUMNS = ("form_id", "day", "field_key", "value", "count", "total", "low", "high")
ON_CONFLICT = """
ON CONFLICT (form_id, day, field_key, value) DO UPDATE SET
  count = summary_rollups.count + excluded.count,
  total = summary_rollups.total + excluded.total,
  low = CASE WHEN excluded.low < summary_rollups.low THEN excluded.low
        ELSE coalesce(summary_rollups.low, excluded.low) END,
  high = CASE WHEN excluded.high > summary_rollups.high THEN excluded.high
         ELSE coalesce(summary_rollups.high, excluded.high) END"""
# PostgreSQL: the rows as one JSON parameter, so the statement's text never changes (prepared
# once) and the driver adapts one string rather than an array per column.
POSTGRESQL_UPSERT = text(
    "INSERT INTO summary_rollups (form_id, day, field_key, value, count, total, low, high) "
    "SELECT CAST(:form_id AS integer), r.day, r.field_key, r.value, r.count, r.total, r.low, "
    "r.high FROM json_to_recordset(CAST(:rows AS json)) AS r(day date, field_key text, "
    "value text, count integer, total double precision, low double precision, "
    "high double precision)" + ON_CONFLICT
)
POSTGRESQL_ROWS = 10_000
SQLITE_ROWS = 500  # rows per statement on SQLite: 4,000 parameters, within its limit


@lru_cache(maxsize=64)
def sqlite_upsert(rows: int) -> str:
    """SQLite: ``rows`` rows of positional parameters in one statement (one text per number of
    rows), run through the driver: binding 8 named parameters per row through SQLAlchemy cost
    more than SQLite's work on them."""
    row = "(" + ", ".join("?" * len(COLUMNS)) + ")"
    values = ", ".join([row] * rows)
    return f"INSERT INTO summary_rollups ({', '.join(COLUMNS)}) VALUES {values}" + ON_CONFLICT


def _write_postgresql(connection, form_id: int, rows: list[tuple[Any, ...]]) -> None:
    for start in range(0, len(rows), POSTGRESQL_ROWS):
        records = [
            dict(zip(COLUMNS[1:], row[1:], strict=True))
            for row in rows[start : start + POSTGRESQL_ROWS]
        ]
        parameters = {"form_id": form_id, "rows": orjson.dumps(records).decode()}
        connection.execute(POSTGRESQL_UPSERT, parameters)


def _write_sqlite(connection, rows: list[tuple[Any, ...]]) -> None:
    dialect = connection.dialect
    day_text = Date().dialect_impl(dialect).bind_processor(dialect)  # how SQLite keeps a date
    for start in range(0, len(rows), SQLITE_ROWS):
        chunk = rows[start : start + SQLITE_ROWS]
        parameters = []
        for form_id, day, *rest in chunk:
            parameters += (form_id, day_text(day), *rest)
        connection.exec_driver_sql(sqlite_upsert(len(chunk)), tuple(parameters))
