"""Consent: a box to tick, or a Yes/No question. The answer is stored as a bool."""

from __future__ import annotations

from typing import Any

from wtforms.fields import BooleanField
from wtforms.fields import Field
from wtforms.fields import RadioField
from wtforms.fields import SelectChoice

from app.fields.base import ExportContext
from app.fields.base import FieldType
from app.fields.inputs import RuleInput
from app.fields.rules import RuleReader
from app.fields.spec import FieldSpec
from app.fields.validators import ErrorCode
from app.fields.validators import InvalidAnswer

FALSE_VALUES = (False, "false", "", "0", "no", "off")
ANSWERS = {"yes": True, "no": False}


class Consent(FieldType):
    name = "consent"
    condition_kind = "consent"
    title = "Consent"
    summary_kind = "choices"
    # Consent must come from the person: a link must not tick the box for them.
    prefillable = False
    rule_inputs = (
        RuleInput(
            "style",
            "Ask as",
            "select",
            options=(("checkbox", "A box to tick"), ("yes_no", "A Yes/No question")),
        ),
    )
    default_input = None  # a consent given in advance is no consent
    takes_placeholder = False

    def check_rules(self, rules: RuleReader) -> dict[str, Any]:
        rules.allow_only("style")
        return {"style": rules.one_of("style", ("checkbox", "yes_no"), "checkbox")}

    def field_class_for(self, spec: FieldSpec) -> type[Field]:
        return BooleanField if _is_checkbox(spec) else RadioField

    def field_options(self, spec: FieldSpec) -> dict[str, Any]:
        if _is_checkbox(spec):
            return {"false_values": FALSE_VALUES}
        choices = [SelectChoice(value="yes", label="Yes"), SelectChoice(value="no", label="No")]
        return {"choices": choices, "validate_choice": False}

    def render_kw(self, spec: FieldSpec) -> dict[str, Any]:
        return {}

    def required_message_for(self, spec: FieldSpec) -> str:
        return (
            "Please tick this box to go on." if _is_checkbox(spec) else "Please answer yes or no."
        )

    def default_data(self, spec: FieldSpec) -> Any:
        if _is_checkbox(spec):
            return bool(spec.default)
        return {True: "yes", False: "no"}.get(spec.default)

    def normalize_default(self, raw: Any, spec: FieldSpec) -> Any:
        # A pre-ticked box is not valid consent (GDPR, CJEU Planet49).
        if raw is not False:
            raise ValueError("a consent question cannot be answered in advance.")
        return None

    def is_empty(self, data: Any) -> bool:
        return not data if isinstance(data, bool) else super().is_empty(data)

    def empty_answer(self, spec: FieldSpec) -> Any:
        # An unticked box is a clear "no"; an unanswered Yes/No question is not.
        return False if _is_checkbox(spec) else None

    def clean(self, data: Any, spec: FieldSpec) -> bool:
        if isinstance(data, bool):
            return data
        answer = ANSWERS.get(str(data).strip().lower())
        if answer is None:
            raise InvalidAnswer(ErrorCode.INVALID_CHOICE, "Please answer yes or no.")
        return answer

    def display(self, value: Any, spec: FieldSpec) -> str:
        return "Yes" if value else "No"

    def csv_cell(self, value: Any, spec: FieldSpec, context: ExportContext) -> str:
        return "yes" if value else "no"

    def json_value(self, value: Any, spec: FieldSpec, context: ExportContext) -> Any:
        return bool(value)


def _is_checkbox(spec: FieldSpec) -> bool:
    return spec.rules.get("style", "checkbox") == "checkbox"
