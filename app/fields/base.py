"""What every field type does, and the defaults most types keep."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace
from typing import Any
from typing import ClassVar
from typing import Literal

from wtforms.fields import Field
from wtforms.fields import StringField
from wtforms.fields.core import UnboundField

from app.fields.inputs import DefaultInput
from app.fields.inputs import RuleInput
from app.fields.rules import RuleReader
from app.fields.spec import FieldSpec
from app.fields.validators import Answer
from app.fields.validators import Presence

SummaryKind = Literal["choices", "numeric", "nps", "text"] | None
# Which operators conditions may apply to a type's answers (app/flow/conditions.py).
ConditionKind = (
    Literal["text", "number", "choice", "choices", "date", "time", "consent", "file"] | None
)

# Spreadsheet programs run a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = frozenset(FORMULA_START)  # each is one character: text[:1] says it all
CellFunction = Callable[[Any], Any]


@dataclass(frozen=True)
class ExportContext:
    """What exports need from outside the registry: the link to a stored file."""

    file_url: Callable[[Mapping[str, Any]], str]


def escape_formula(text: str) -> str:
    """Neutralise spreadsheet formulas in text that came from a respondent."""
    return "'" + text if text[:1] in FORMULA_FIRST else text


def text_cell(value: Any) -> str:
    """The CSV cell of a type that shows its answer as ``str(value)`` (the default)."""
    if type(value) is str:
        return "'" + value if value[:1] in FORMULA_FIRST else value
    return escape_formula(str(value))


class FieldType:
    """One kind of question. Subclasses set the ClassVars and override what differs."""

    name: ClassVar[str]
    title: ClassVar[str]
    takes_answer: ClassVar[bool] = True
    prefillable: ClassVar[bool] = True
    summary_kind: ClassVar[SummaryKind] = "text"
    condition_kind: ClassVar[ConditionKind] = "text"
    requirable: ClassVar[bool] = True
    browser_required: ClassVar[bool] = True
    takes_upload: ClassVar[bool] = False
    required_message: ClassVar[str] = "This field is required."
    field_class: ClassVar[type[Field]] = StringField
    # What the builder asks for; checking stays in check_rules and normalize_default.
    rule_inputs: ClassVar[tuple[RuleInput, ...]] = ()
    default_input: ClassVar[DefaultInput] = "text"
    takes_placeholder: ClassVar[bool] = True

    def check_rules(self, rules: RuleReader) -> dict[str, Any]:
        """Check the builder's rules and return them normalised (defaults filled in)."""
        rules.allow_only()
        return {}

    def build_field(self, spec: FieldSpec) -> UnboundField | None:
        """The WTForms field for ``spec``, to be set on a form class under ``spec.key``."""
        render_kw = self.render_kw(spec)
        return self.field_class_for(spec)(
            label=spec.label,
            validators=[Presence(self, spec), Answer(self, spec)],
            description=self.help_text(spec),
            default=self.default_data(spec),
            render_kw=render_kw or None,
            **self.field_options(spec),
        )

    def help_text(self, spec: FieldSpec) -> str:
        """The help shown under the label: the builder's, and what the rules ask, if anything."""
        return spec.help

    def field_class_for(self, spec: FieldSpec) -> type[Field]:
        """The WTForms field class; ``field_class`` unless the rules choose another."""
        return self.field_class

    def field_options(self, spec: FieldSpec) -> dict[str, Any]:
        """Extra arguments for the WTForms field class (choices, widget...)."""
        return {}

    def render_kw(self, spec: FieldSpec) -> dict[str, Any]:
        """HTML attributes for the input: placeholder, limits the browser can check."""
        return {"placeholder": spec.placeholder} if spec.placeholder else {}

    def default_data(self, spec: FieldSpec) -> Any:
        """The field's data for ``spec.default`` (a stored answer value)."""
        return None if spec.default is None else str(spec.default)

    def normalize_default(self, raw: Any, spec: FieldSpec) -> Any:
        """Check a builder's default answer and return it as stored; raise ``ValueError``."""
        data = self.default_data(replace(spec, default=raw))
        return None if self.is_empty(data) else self.clean(data, spec)

    def prefill_data(self, values: list[str], spec: FieldSpec) -> Any:
        """The field's data for ``?key=value`` in the link."""
        return values[0]

    def required_message_for(self, spec: FieldSpec) -> str:
        """What a person reads when a required question is left empty."""
        return self.required_message

    def is_empty(self, data: Any) -> bool:
        """Whether the posted data counts as no answer."""
        if data is None:
            return True
        if isinstance(data, str):
            return not data.strip()
        return isinstance(data, list | tuple) and not data

    def empty_answer(self, spec: FieldSpec) -> Any:
        """What is stored for an optional question left empty."""
        return None

    def clean(self, data: Any, spec: FieldSpec) -> Any:
        """Turn non-empty posted data into the stored answer, or raise ``InvalidAnswer``.

        Every type that takes an answer defines it; a statement (``takes_answer`` False) is
        never validated, so it has none."""
        raise NotImplementedError(f"{type(self).__name__} takes no answer to clean")

    def summary_for(self, spec: FieldSpec) -> SummaryKind:
        """How the inbox summarises answers to ``spec``; ``summary_kind`` unless rules decide."""
        return self.summary_kind

    def display(self, value: Any, spec: FieldSpec) -> str:
        """The stored answer as a person reads it."""
        return str(value)

    def csv_cell(self, value: Any, spec: FieldSpec, context: ExportContext) -> str:
        """The stored answer as one CSV cell."""
        return escape_formula(self.display(value, spec))

    def json_value(self, value: Any, spec: FieldSpec, context: ExportContext) -> Any:
        """The stored answer as a JSON-native value."""
        return value

    def csv_cell_function(self, spec: FieldSpec, context: ExportContext) -> CellFunction:
        """``csv_cell`` for one spec as a function of the answer alone, for exports that call
        it for every row: what depends on the spec only is worked out once. It gives what
        ``csv_cell`` gives and raises where that raises; a type that overrides ``display`` or
        ``csv_cell`` overrides this too, or keeps this default, which calls ``csv_cell``."""
        if type(self).csv_cell is FieldType.csv_cell and type(self).display is FieldType.display:
            return text_cell
        csv_cell = self.csv_cell
        return lambda value: csv_cell(value, spec, context)

    def json_value_function(self, spec: FieldSpec, context: ExportContext) -> CellFunction:
        """``json_value`` for one spec as a function of the answer alone."""
        if type(self).json_value is FieldType.json_value:
            return _same
        json_value = self.json_value
        return lambda value: json_value(value, spec, context)


def _same(value: Any) -> Any:
    return value
