"""Log lines, one per record whatever the record carries: text (the default) or JSON objects
for platforms that index them (``LOG_FORMAT=json``).

Much of what is logged comes from clients (paths, names, subjects, exception messages). A
line break in it would start a line whose text the client chose, so both formats escape every
character that could end a line or hide what a line says: the C0 and C1 controls, DEL, the
Unicode line and paragraph separators and the bidirectional overrides.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC
from datetime import datetime

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is data.
STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
) | {"message", "asctime", "taskName"}

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Characters that end a line somewhere (terminals, str.splitlines, log shippers, editors) or
# make a line read otherwise than it is written (bidirectional overrides and isolates).
_UNSAFE = [
    *range(0x00, 0x20),
    *range(0x7F, 0xA0),
    0x2028,
    0x2029,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
]
_SHORT_ESCAPES = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}


def _escape_of(code: int) -> str:
    if code in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[code]
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


# The backslash is escaped too, so that a client cannot write "\n" that reads as an escape.
_TEXT_ESCAPES = {code: _escape_of(code) for code in _UNSAFE} | {ord("\\"): "\\\\"}
# json.dumps escapes the C0 controls, the backslash and the quote itself; with
# ensure_ascii=False it leaves the rest as they are.
_JSON_ESCAPES = {code: f"\\u{code:04x}" for code in _UNSAFE if code >= 0x7F}


def escape_for_log(text: str) -> str:
    """``text`` on one line: each unsafe character as a visible escape (``\\n``, ``\\x85``,
    ``\\u2028``), and ``\\`` as ``\\\\``."""
    return text.translate(_TEXT_ESCAPES)


class TextFormatter(logging.Formatter):
    """The standard formatter, with the whole record (message, traceback and all) on one line."""

    def __init__(self, fmt: str = TEXT_FORMAT, datefmt: str | None = None) -> None:
        super().__init__(fmt, datefmt)

    def format(self, record: logging.LogRecord) -> str:
        return escape_for_log(super().format(record))


class JsonFormatter(logging.Formatter):
    """time, level, logger and message, the record's ``extra`` fields, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in STANDARD_ATTRIBUTES and not name.startswith("_"):
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # The escapes land inside JSON strings only: no unsafe character occurs outside them.
        return json.dumps(entry, default=str, ensure_ascii=False).translate(_JSON_ESCAPES)


def make_formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter()
    return TextFormatter()
