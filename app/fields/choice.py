"""Questions answered by picking from the builder's options: radio, dropdown and checkboxes."""

from __future__ import annotations

from typing import Any

from wtforms.fields import RadioField
from wtforms.fields import SelectChoice
from wtforms.fields import SelectField
from wtforms.fields import SelectMultipleField
from wtforms.widgets import CheckboxInput
from wtforms.widgets import ListWidget

from app.fields.base import CellFunction
from app.fields.base import ExportContext
from app.fields.base import FieldType
from app.fields.base import escape_formula
from app.fields.inputs import RuleInput
from app.fields.rules import RuleReader
from app.fields.spec import FieldSpec
from app.fields.validators import ErrorCode
from app.fields.validators import InvalidAnswer

MAX_CHOICES = 500
MAX_VALUE_CHARS = 200
MAX_LABEL_CHARS = 500
CHOICES_INPUT = RuleInput(
    "choices",
    "Options",
    "choices",
    help="One per line. To store a short value instead of the label, write value|Label.",
)


def check_choices(rules: RuleReader) -> list[dict[str, str]]:
    """The rule ``choices``: a non-empty list of unique options, each ``{"value", "label"}``."""
    raw = rules.rules.get("choices")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_CHOICES:
        rules.fail("choices", f"choices must be a list of 1 to {MAX_CHOICES} options.")
    choices = [check_choice(rules, index, item) for index, item in enumerate(raw)]
    seen: set[str] = set()
    for index, choice in enumerate(choices):
        if choice["value"] in seen:
            rules.fail(
                f"choices[{index}].value", f'the option "{choice["value"]}" is listed twice.'
            )
        seen.add(choice["value"])
    return choices


def check_choice(rules: RuleReader, index: int, item: object) -> dict[str, str]:
    """One option; a plain string is shorthand for the same value and label."""
    path = f"choices[{index}]"
    if isinstance(item, str):
        item = {"value": item}
    if not isinstance(item, dict) or set(item) - {"value", "label"}:
        rules.fail(path, f"option {index + 1} must be text or an object with value and label.")
    value = item.get("value")
    if not isinstance(value, str) or not 0 < len(value.strip()) <= MAX_VALUE_CHARS:
        needed = f"a value of 1 to {MAX_VALUE_CHARS} characters"
        rules.fail(f"{path}.value", f"option {index + 1} needs {needed}.")
    label = item.get("label") or value
    if not isinstance(label, str) or not 0 < len(label.strip()) <= MAX_LABEL_CHARS:
        needed = f"a label of 1 to {MAX_LABEL_CHARS} characters"
        rules.fail(f"{path}.label", f"option {index + 1} needs {needed}.")
    return {"value": value.strip(), "label": label.strip()}


def choice_labels(spec: FieldSpec) -> dict[str, str]:
    """Each option's value mapped to the label the respondent saw."""
    return {choice["value"]: choice["label"] for choice in spec.rules.get("choices", [])}


def _select_choices(spec: FieldSpec) -> list[SelectChoice]:
    return [
        SelectChoice(value=choice["value"], label=choice["label"])
        for choice in spec.rules["choices"]
    ]


class SingleChoice(FieldType):
    name = "single_choice"
    condition_kind = "choice"
    title = "Single choice"
    summary_kind = "choices"
    required_message = "Please choose an option."
    field_class = RadioField
    rule_inputs = (CHOICES_INPUT,)
    takes_placeholder = False

    def check_rules(self, rules: RuleReader) -> dict[str, Any]:
        rules.allow_only("choices")
        return {"choices": check_choices(rules)}

    def field_options(self, spec: FieldSpec) -> dict[str, Any]:
        # Our own check below records INVALID_CHOICE; WTForms' built-in one would not.
        return {"choices": _select_choices(spec), "validate_choice": False}

    def render_kw(self, spec: FieldSpec) -> dict[str, Any]:
        return {}

    def clean(self, data: Any, spec: FieldSpec) -> str:
        value = str(data).strip()
        if value not in choice_labels(spec):
            raise InvalidAnswer(ErrorCode.INVALID_CHOICE, "Choose one of the options shown.")
        return value

    def display(self, value: Any, spec: FieldSpec) -> str:
        return choice_labels(spec).get(value, str(value))

    def csv_cell_function(self, spec: FieldSpec, context: ExportContext) -> CellFunction:
        cells = {value: escape_formula(label) for value, label in choice_labels(spec).items()}

        def cell(value: Any) -> str:
            found = cells.get(value)
            return escape_formula(str(value)) if found is None else found

        return cell


class Dropdown(SingleChoice):
    name = "dropdown"
    title = "Dropdown"
    field_class = SelectField
    takes_placeholder = True  # the prompt shown before anything is chosen

    def field_options(self, spec: FieldSpec) -> dict[str, Any]:
        # Browsers select the first option of a <select>; an empty first one avoids a silent answer.
        prompt = SelectChoice(value="", label=spec.placeholder or "Choose…")
        return {"choices": [prompt, *_select_choices(spec)], "validate_choice": False}


class MultipleChoice(FieldType):
    name = "multiple_choice"
    condition_kind = "choices"
    title = "Checkboxes"
    summary_kind = "choices"
    # "required" on each checkbox would make the browser demand every box.
    browser_required = False
    required_message = "Please choose at least one option."
    field_class = SelectMultipleField
    rule_inputs = (
        CHOICES_INPUT,
        RuleInput("min_picks", "Fewest options to tick", "integer"),
        RuleInput("max_picks", "Most options to tick", "integer"),
    )
    default_input = "lines"
    takes_placeholder = False

    def check_rules(self, rules: RuleReader) -> dict[str, Any]:
        rules.allow_only("choices", "min_picks", "max_picks")
        choices = check_choices(rules)
        fewest = rules.integer("min_picks", default=None, low=1, high=len(choices))
        most = rules.integer("max_picks", default=None, low=1, high=len(choices))
        rules.ordered("min_picks", "max_picks", fewest, most)
        return {"choices": choices, "min_picks": fewest, "max_picks": most}

    def help_text(self, spec: FieldSpec) -> str:
        # The limit is said before the respondent submits, not only in the error after.
        limit = picks_hint(spec.rules["min_picks"], spec.rules["max_picks"])
        return " ".join(part for part in (spec.help, limit) if part)

    def field_options(self, spec: FieldSpec) -> dict[str, Any]:
        return {
            "choices": _select_choices(spec),
            "validate_choice": False,
            "widget": ListWidget(prefix_label=False),
            "option_widget": CheckboxInput(),
        }

    def render_kw(self, spec: FieldSpec) -> dict[str, Any]:
        return {}

    def default_data(self, spec: FieldSpec) -> Any:
        return _as_list(spec.default)

    def prefill_data(self, values: list[str], spec: FieldSpec) -> Any:
        return values

    def clean(self, data: Any, spec: FieldSpec) -> list[str]:
        picked = {str(value).strip() for value in _as_list(data) or []}
        labels = choice_labels(spec)
        if not picked <= set(labels):
            raise InvalidAnswer(ErrorCode.INVALID_CHOICE, "Choose only from the options shown.")
        check_picks(len(picked), spec.rules["min_picks"], spec.rules["max_picks"])
        return [value for value in labels if value in picked]

    def display(self, value: Any, spec: FieldSpec) -> str:
        labels = choice_labels(spec)
        return ", ".join(labels.get(item, str(item)) for item in value)

    def csv_cell(self, value: Any, spec: FieldSpec, context: ExportContext) -> str:
        labels = choice_labels(spec)
        return escape_formula("; ".join(labels.get(item, str(item)) for item in value))

    def csv_cell_function(self, spec: FieldSpec, context: ExportContext) -> CellFunction:
        labels = choice_labels(spec)
        return lambda value: escape_formula("; ".join([labels.get(i, str(i)) for i in value]))

    def json_value(self, value: Any, spec: FieldSpec, context: ExportContext) -> Any:
        return list(value)


def _as_list(value: Any) -> list[Any] | None:
    if value is None:
        return None
    return list(value) if isinstance(value, list | tuple) else [value]


def check_picks(count: int, fewest: int | None, most: int | None) -> None:
    """Raise ``InvalidAnswer`` when fewer or more than the allowed options are ticked."""
    if fewest == most and fewest is not None and count != fewest:
        message = f"Choose exactly {_plural(fewest, 'option')}."
    elif fewest is not None and count < fewest:
        message = f"Choose at least {_plural(fewest, 'option')}."
    elif most is not None and count > most:
        message = f"Choose at most {_plural(most, 'option')}."
    else:
        return
    raise InvalidAnswer(ErrorCode.OUT_OF_RANGE, message)


def picks_hint(fewest: int | None, most: int | None) -> str:
    """How many options may be ticked, said as help ("Choose at most 2 options."); "" if any."""
    if fewest == most and fewest is not None:
        return f"Choose exactly {_plural(fewest, 'option')}."
    if fewest is not None and most is not None:
        return f"Choose {fewest} to {most} options."
    if most is not None:
        return f"Choose at most {_plural(most, 'option')}."
    if fewest is not None and fewest > 1:
        return f"Choose at least {_plural(fewest, 'option')}."
    return ""


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
