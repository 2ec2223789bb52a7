"""Ratings: 1 to 5 stars, or a 0 to 10 Net Promoter Score question."""

from __future__ import annotations

from typing import Any

from wtforms.fields import RadioField
from wtforms.fields import SelectChoice

from app.fields.base import ExportContext
from app.fields.base import FieldType
from app.fields.base import SummaryKind
from app.fields.inputs import RuleInput
from app.fields.rules import RuleReader
from app.fields.spec import FieldSpec
from app.fields.validators import ErrorCode
from app.fields.validators import InvalidAnswer

SCALES = {"stars": range(1, 6), "nps": range(0, 11)}


class Rating(FieldType):
    name = "rating"
    condition_kind = "number"
    title = "Rating"
    summary_kind = "numeric"
    required_message = "Please choose a rating."
    field_class = RadioField
    rule_inputs = (
        RuleInput(
            "scale",
            "Scale",
            "select",
            options=(("stars", "1 to 5 stars"), ("nps", "0 to 10 (Net Promoter Score)")),
        ),
    )
    takes_placeholder = False

    def check_rules(self, rules: RuleReader) -> dict[str, Any]:
        rules.allow_only("scale")
        return {"scale": rules.one_of("scale", SCALES, "stars")}

    def summary_for(self, spec: FieldSpec) -> SummaryKind:
        return "nps" if spec.rules["scale"] == "nps" else "numeric"

    def field_options(self, spec: FieldSpec) -> dict[str, Any]:
        choices = [SelectChoice(value=str(n), label=str(n)) for n in _scale(spec)]
        return {"choices": choices, "validate_choice": False}

    def render_kw(self, spec: FieldSpec) -> dict[str, Any]:
        # Read by the render_field macro, which draws a stars scale as a row of stars.
        return {"data-rating": "stars"} if _scale(spec) == SCALES["stars"] else {}

    def clean(self, data: Any, spec: FieldSpec) -> int:
        text = str(data).strip()
        points = _scale(spec)
        if text not in {str(n) for n in points}:
            message = f"Choose a rating from {points[0]} to {points[-1]}."
            raise InvalidAnswer(ErrorCode.INVALID_CHOICE, message)
        return int(text)

    def display(self, value: Any, spec: FieldSpec) -> str:
        return f"{int(value)} / {_scale(spec)[-1]}"

    def csv_cell(self, value: Any, spec: FieldSpec, context: ExportContext) -> str:
        return str(int(value))


def _scale(spec: FieldSpec) -> range:
    return SCALES[spec.rules.get("scale", "stars")]
