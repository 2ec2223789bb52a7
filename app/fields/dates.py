"""Calendar dates (YYYY-MM-DD) and times of day (HH:MM)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from wtforms.widgets import DateInput
from wtforms.widgets import TimeInput

from app.fields.base import FieldType
from app.fields.inputs import RuleInput
from app.fields.rules import RuleReader
from app.fields.spec import FieldSpec
from app.fields.validators import ErrorCode
from app.fields.validators import InvalidAnswer

# date.fromisoformat alone would also take "20240131" and week dates like "2024-W05-3".
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Browsers send seconds when the input has a step below a minute; they are dropped.
TIME_OF_DAY = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::[0-9]{2}(?:\.[0-9]+)?)?")


def parse_date(text: str) -> date | None:
    """The date in ``text`` written as YYYY-MM-DD, or None."""
    if not ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


class Date(FieldType):
    name = "date"
    condition_kind = "date"
    title = "Date"
    rule_inputs = (
        RuleInput("min", "Earliest date", "date"),
        RuleInput("max", "Latest date", "date"),
    )

    def check_rules(self, rules: RuleReader) -> dict[str, Any]:
        rules.allow_only("min", "max")
        earliest = check_date_rule(rules, "min")
        latest = check_date_rule(rules, "max")
        rules.ordered("min", "max", earliest, latest)
        return {"min": earliest, "max": latest}

    def field_options(self, spec: FieldSpec) -> dict[str, Any]:
        return {"widget": DateInput()}

    def render_kw(self, spec: FieldSpec) -> dict[str, Any]:
        limits = {name: spec.rules[name] for name in ("min", "max") if spec.rules[name]}
        return super().render_kw(spec) | limits

    def clean(self, data: Any, spec: FieldSpec) -> str:
        day = parse_date(str(data).strip())
        if day is None:
            raise InvalidAnswer(ErrorCode.TYPE_DATE, "Enter a date as YYYY-MM-DD.")
        earliest, latest = spec.rules["min"], spec.rules["max"]
        if earliest and day.isoformat() < earliest:
            raise InvalidAnswer(ErrorCode.OUT_OF_RANGE, f"Enter a date on or after {earliest}.")
        if latest and day.isoformat() > latest:
            raise InvalidAnswer(ErrorCode.OUT_OF_RANGE, f"Enter a date on or before {latest}.")
        return day.isoformat()


def check_date_rule(rules: RuleReader, rule: str) -> str | None:
    """A date rule: absent, or a real date written YYYY-MM-DD."""
    value = rules.rules.get(rule)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or parse_date(value) is None:
        rules.fail(rule, f"{rule} must be a date written YYYY-MM-DD.")
    return value


class Time(FieldType):
    name = "time"
    condition_kind = "time"
    title = "Time"

    def field_options(self, spec: FieldSpec) -> dict[str, Any]:
        return {"widget": TimeInput()}

    def clean(self, data: Any, spec: FieldSpec) -> str:
        match = TIME_OF_DAY.fullmatch(str(data).strip())
        hour, minute = (int(part) for part in match.groups()) if match else (-1, -1)
        if not (0 <= hour <= 23 and 0 <= minute <= 59):
            raise InvalidAnswer(ErrorCode.TYPE_TIME, "Enter a time as HH:MM, like 09:30.")
        return f"{hour:02d}:{minute:02d}"
