"""Numbers: whole or decimal, with an optional range and step."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from decimal import localcontext
from typing import Any

from wtforms.widgets import NumberInput

from app.fields.base import ExportContext
from app.fields.base import FieldType
from app.fields.inputs import RuleInput
from app.fields.rules import RuleReader
from app.fields.spec import FieldSpec
from app.fields.validators import ErrorCode
from app.fields.validators import InvalidAnswer

WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
DECIMAL_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
MAX_NUMBER_CHARS = 40
# Beyond 2**53 JavaScript readers of the JSON export lose digits; 10**15 keeps a round margin.
LARGEST = 10**15


def format_number(value: float) -> str:
    """``3`` for 3.0, ``2.5`` for 2.5: how a person writes the number."""
    if isinstance(value, float) and value.is_integer() and abs(value) < LARGEST:
        return str(int(value))
    return str(value)


class Number(FieldType):
    name = "number"
    condition_kind = "number"
    title = "Number"
    summary_kind = "numeric"
    rule_inputs = (
        RuleInput(
            "kind",
            "Kind of number",
            "select",
            options=(("integer", "Whole numbers"), ("decimal", "Decimals allowed")),
        ),
        RuleInput("min", "Smallest", "number"),
        RuleInput("max", "Largest", "number"),
        RuleInput(
            "step", "Step", "number", help="Answers go up in steps of this from the smallest."
        ),
    )

    def check_rules(self, rules: RuleReader) -> dict[str, Any]:
        rules.allow_only("kind", "min", "max", "step")
        # Most numbers asked for are counts; decimals are the editor's choice.
        kind = rules.one_of("kind", ("integer", "decimal"), "integer")
        whole = kind == "integer"
        low = rules.number("min", whole=whole, limit=LARGEST)
        high = rules.number("max", whole=whole, limit=LARGEST)
        rules.ordered("min", "max", low, high)
        step = rules.number("step", whole=whole, limit=LARGEST)
        if step is not None and step <= 0:
            rules.fail("step", "step must be greater than 0.")
        return {"kind": kind, "min": low, "max": high, "step": step}

    def field_options(self, spec: FieldSpec) -> dict[str, Any]:
        return {"widget": NumberInput()}

    def render_kw(self, spec: FieldSpec) -> dict[str, Any]:
        rules = spec.rules
        whole = rules["kind"] == "integer"
        render_kw = super().render_kw(spec) | {
            "step": rules["step"] or (1 if whole else "any"),
            "inputmode": "numeric" if whole else "decimal",
        }
        return render_kw | {name: rules[name] for name in ("min", "max") if rules[name] is not None}

    def clean(self, data: Any, spec: FieldSpec) -> int | float:
        whole = spec.rules["kind"] == "integer"
        number = parse_number(str(data), whole=whole)
        check_range(number, spec.rules["min"], spec.rules["max"])
        check_step(number, spec.rules["min"], spec.rules["step"])
        return int(number) if whole else float(number)

    def display(self, value: Any, spec: FieldSpec) -> str:
        return format_number(value)

    def csv_cell(self, value: Any, spec: FieldSpec, context: ExportContext) -> str:
        return format_number(value)


def parse_number(text: str, *, whole: bool) -> Decimal:
    """The number in ``text``; never NaN or infinite, since the patterns spell digits only."""
    text = unicodedata.normalize("NFKC", text).strip()
    pattern = WHOLE_NUMBER if whole else DECIMAL_NUMBER
    if len(text) > MAX_NUMBER_CHARS or not pattern.fullmatch(text):
        message = "Enter a whole number." if whole else "Enter a number, like 12 or 3.5."
        raise InvalidAnswer(ErrorCode.TYPE_NUMERIC, message)
    number = Decimal(text)
    if abs(number) > LARGEST:
        raise InvalidAnswer(ErrorCode.OUT_OF_RANGE, "This number is too large.")
    return number


def check_range(number: Decimal, low: float | None, high: float | None) -> None:
    """Raise ``InvalidAnswer`` when ``number`` lies outside ``low``..``high``."""
    too_low = low is not None and number < Decimal(str(low))
    too_high = high is not None and number > Decimal(str(high))
    if not (too_low or too_high):
        return
    if low is not None and high is not None:
        message = f"Enter a number from {format_number(low)} to {format_number(high)}."
    elif low is not None:
        message = f"Enter a number of at least {format_number(low)}."
    else:
        message = f"Enter a number of at most {format_number(high)}."
    raise InvalidAnswer(ErrorCode.OUT_OF_RANGE, message)


def check_step(number: Decimal, low: float | None, step: float | None) -> None:
    """Raise ``InvalidAnswer`` unless ``number`` is ``low`` (or 0) plus a whole number of steps."""
    if step is None:
        return
    base = Decimal(str(low or 0))
    with localcontext() as context:
        # Exact remainders for tiny steps: 10**15 / 10**-20 needs 35 digits.
        context.prec = 80
        remainder = (number - base) % Decimal(str(step))
    if not remainder:
        return
    if base:
        examples = ", ".join(format_number(float(base + n * Decimal(str(step)))) for n in range(3))
        start = format_number(low or 0)
        message = f"Enter a number in steps of {format_number(step)} from {start} ({examples}…)."
    else:
        message = f"Enter a multiple of {format_number(step)}."
    raise InvalidAnswer(ErrorCode.TYPE_NUMERIC, message)
