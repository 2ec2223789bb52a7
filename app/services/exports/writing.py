"""Writing the cells of an export, a batch of rows at a time, fast enough for a million rows.

The field registry says what a cell holds (``csv_cell_function``); this module writes it as CSV
text or spreadsheet XML. Answers repeat (options, ratings, names, agents), so each column keeps
the written cells of the answers it has seen and looks a whole batch up at once, with ``map``
and ``zip`` doing the per-cell work in C; only answers not seen before go through Python.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from operator import itemgetter
from types import NoneType
from typing import Any
from zoneinfo import ZoneInfo

from app.fields import ExportContext
from app.fields.base import FORMULA_FIRST
from app.fields.base import escape_formula
from app.fields.base import text_cell
from app.fields.exports import MISFIT
from app.fields.exports import csv_cell_any
from app.services.exports import xlsx
from app.services.submissions.row_text import decode_json

MEMO_LIMIT = 2048  # written cells a column keeps
YES_NO = ("no", "yes")
META_CELLS = ("referrer", "user_agent")
_hour_of = itemgetter(slice(0, 13))
_minutes_of = itemgetter(slice(13, 19))  # ":MM:SS"


def csv_field(text: str) -> str:
    """A text cell as ``csv.writer`` writes it by default (QUOTE_MINIMAL, doubled quotes): in
    quotes when it holds a comma, a quote or a line break."""
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\n" in text or "\r" in text:
        return '"' + text + '"'
    return text


def csv_text_cell(value: Any) -> str:
    """The CSV cell of an answer to a type that shows it as it is (short and long text, email,
    date...), as ``ColumnWriter.written`` writes it but in one call: the commonest cell."""
    if type(value) is not str:
        if value is None:
            return ""
        if type(value) is int or type(value) is float:
            return str(value)
        return csv_field(text_cell(value))
    if value[:1] in FORMULA_FIRST:
        value = "'" + value
    if '"' in value:
        return '"' + value.replace('"', '""') + '"'
    if "," in value or "\n" in value or "\r" in value:
        return '"' + value + '"'
    return value


_first_character = itemgetter(slice(0, 1))
CSV_SPECIAL = ('"', ",", "\n", "\r")


def csv_text_cells(values: list[Any]) -> list[str]:
    """``csv_text_cell`` of each value. A batch of text in which no answer needs quoting or
    neutralising, the usual case for names and emails, is checked by a few scans in C and comes
    back as it is."""
    if set(map(type, values)) == {str} and FORMULA_FIRST.isdisjoint(map(_first_character, values)):
        joined = "".join(values)
        if not any(special in joined for special in CSV_SPECIAL):
            return values
    return list(map(csv_text_cell, values))


@dataclass(frozen=True)
class Encoding:
    """How one file format writes cells and rows: CSV text or spreadsheet XML."""

    text: Callable[[str], str]
    number: Callable[[Any], str]
    empty: str
    time: Callable[[str], str]  # an ISO 8601 time, which needs no quoting or escaping
    separator: str
    start: str
    end: str


CSV = Encoding(csv_field, str, "", str, ",", "", "\r\n")
XLSX = Encoding(
    xlsx.text_cell, xlsx.number_cell, xlsx.EMPTY_CELL, xlsx.text_cell, "", "<row>", "</row>"
)


class LocalTimes:
    """Stored UTC times ("YYYY-MM-DD HH:MM:SS") as ISO 8601 in ``zone``, to the second, as
    ``datetime.isoformat`` writes them. Within one UTC hour a zone with whole-hour offsets
    keeps minutes and seconds, so each hour is converted once."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.hours: dict[str, tuple[str, str] | None] = {}

    def iso_all(self, texts: Sequence[str]) -> list[str]:
        """``iso`` of each text; in C but for each hour's first time and odd offsets."""
        hours = list(map(self.hours.get, map(_hour_of, texts)))
        if None in hours:
            for hour in {texts[index][:13] for index, found in enumerate(hours) if found is None}:
                self._hour(hour)
            hours = list(map(self.hours.get, map(_hour_of, texts)))
        if not texts or None in hours:
            return [self.iso(text) for text in texts]
        prefixes, suffixes = zip(*hours, strict=True)
        return list(map("".join, zip(prefixes, map(_minutes_of, texts), suffixes, strict=True)))

    def iso(self, text: str) -> str:
        found = self._hour(text[:13])
        if found is None:
            moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
            return moment.astimezone(self.zone).isoformat(timespec="seconds")
        return found[0] + text[13:19] + found[1]

    def _hour(self, hour: str) -> tuple[str, str] | None:
        if hour not in self.hours:
            self.hours[hour] = self._convert_hour(hour)
        return self.hours[hour]

    def _convert_hour(self, hour: str) -> tuple[str, str] | None:
        """The local "YYYY-MM-DDTHH" and the offset of a UTC hour; None when the offset is not
        whole hours or changes within it."""
        try:
            start = datetime.strptime(hour, "%Y-%m-%d %H").replace(tzinfo=UTC)
        except ValueError:
            return None
        local = start.astimezone(self.zone)
        offset = local.utcoffset()
        end = (start + timedelta(minutes=59, seconds=59)).astimezone(self.zone)
        if offset is None or offset % timedelta(hours=1) or end.utcoffset() != offset:
            return None
        text = local.isoformat(timespec="seconds")
        return text[:13], text[19:]


class ColumnWriter:
    """One answer column of an export, written a batch at a time: numbers stay numbers, other
    answers go through the registry's cell function ``cell``.

    The written cells of answers already seen are kept, one dict per kind of answer (text,
    whole number, yes/no, list), so that True and 1 stay apart; a batch of one kind is looked
    up with its answers as keys, a mixed one by (kind, answer). Decimals are written each time
    (0.0 and -0.0 are equal keys but not the same cell). A column whose answers keep being new
    once ``MEMO_LIMIT`` of them are kept (emails, messages) stops looking them up.
    """

    def __init__(
        self, cell: Callable[[Any], Any], context: ExportContext, encoding: Encoding
    ) -> None:
        self.cell = cell
        self.context = context
        self.encoding = encoding
        # Text written as it is, to CSV: one call instead of three for each new answer.
        self.text = csv_text_cell if cell is text_cell and encoding is CSV else None
        self.memos: dict[Any, dict[Any, str]] = {}
        self.looking_up = True
        self.new_answers = 0

    def write(self, values: list[Any]) -> list[str]:
        """The cells of ``values``, the column's answers in a batch of rows."""
        kinds = set(map(type, values)) - {NoneType}
        if not self.looking_up or float in kinds:
            if self.text is not None:
                return csv_text_cells(values)
            return list(map(self.written, values))
        if len(kinds) == 1 and not kinds <= {list, tuple, dict}:
            keys = values
            memo = self.memos.setdefault(kinds.pop(), {None: self.encoding.empty})
        else:
            keys = [(list, tuple(v)) if type(v) is list else (type(v), v) for v in values]
            memo = self.memos.setdefault("mixed", {})
        try:
            cells = list(map(memo.get, keys))
        except TypeError:  # lists of lists, or objects: written one by one
            return list(map(self.written, values))
        for index in [index for index, cell in enumerate(cells) if cell is None]:
            cells[index] = self._remember(memo, keys[index], values[index])
        return cells

    def written(self, value: Any) -> str:
        """The cell of one answer."""
        if self.text is not None and type(value) is str:
            return self.text(value)
        if value is None:
            return self.encoding.empty
        if type(value) is int or type(value) is float:
            return self.encoding.number(value)
        try:
            return self.encoding.text(self.cell(value))
        except MISFIT:
            return self.encoding.text(csv_cell_any(value, self.context))

    def _remember(self, memo: dict[Any, str], key: Any, value: Any) -> str:
        found = self.written(value)
        if len(memo) < MEMO_LIMIT:
            memo[key] = found
        else:
            self.new_answers += 1
            self.looking_up = self.new_answers < MEMO_LIMIT
        return found


class TrailingWriter:
    """The cells after the answers (starred, read, spam reason, referrer, user agent, tags,
    note) and the end of the row, written; they take few values, so each written form is kept
    (up to MEMO_LIMIT of them: notes are mostly one of a kind)."""

    def __init__(self, encoding: Encoding) -> None:
        self.encoding = encoding
        self.memo: dict[tuple, str] = {}

    def write(
        self, starred: Sequence[int], read: Sequence[int], reasons, metas, tags, notes
    ) -> list[str]:
        keys = list(zip(starred, read, reasons, metas, tags, notes, strict=True))
        cells = list(map(self.memo.get, keys))
        for index in [index for index, cell in enumerate(cells) if cell is None]:
            cells[index] = self._written(keys[index])
        return cells

    def _written(self, key: tuple[int, int, str | None, str | None, str | None, str | None]) -> str:
        starred, read, reason, meta, tags, note = key
        details = decode_json(meta)
        details = details if isinstance(details, dict) else {}
        cells = [YES_NO[bool(starred)], YES_NO[bool(read)], reason or ""]
        cells += [escape_formula(details.get(name) or "") for name in META_CELLS]
        cells += [
            escape_formula(", ".join(sorted(tags.split(","))) if tags else ""),
            escape_formula(note or ""),
        ]
        found = self.encoding.separator.join(map(self.encoding.text, cells)) + self.encoding.end
        if len(self.memo) < MEMO_LIMIT:
            self.memo[key] = found
        return found
