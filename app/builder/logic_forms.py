"""The builder's condition editor (a question's or a page's show-if, a page's rule) and the
forms of a page's rules: they only turn inputs into a ``ConditionInput`` and show the forms
service's errors next to their inputs; building and checking the condition is the service's.

Without JavaScript, a test's operators and value input follow the question it had when the
page was drawn: "Add a test" and a refused save draw the page again for what was chosen.
"""

from __future__ import annotations

from typing import Any

from wtforms import BooleanField
from wtforms import FieldList
from wtforms import Form as WTForm
from wtforms import FormField
from wtforms import RadioField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput
from wtforms.widgets import DateInput
from wtforms.widgets import ListWidget
from wtforms.widgets import NumberInput
from wtforms.widgets import TextInput
from wtforms.widgets import TimeInput

from app.builder.forms import BuilderForm
from app.exceptions import InputsInvalid
from app.fields import FieldSpec
from app.flow.pages import SUBMIT
from app.services.forms.logic import MAX_TESTS
from app.services.forms.logic import OPERATOR_LABELS
from app.services.forms.logic import ConditionInput
from app.services.forms.logic import LeafInput
from app.services.forms.logic import choice_options
from app.services.forms.logic import operators_of

VALUE_WIDGETS = {
    "text": TextInput(),
    "number": NumberInput(step="any"),
    "number_pair": NumberInput(step="any"),
    "count": NumberInput(step=1, min=0),
    "day": DateInput(),
    "day_pair": DateInput(),
    "clock": TimeInput(),
    "clock_pair": TimeInput(),
}


class LeafForm(WTForm):
    field = SelectField("Question", validate_choice=False)
    op = SelectField("Test", validate_choice=False)
    value = StringField("Value")
    value_to = StringField("To")
    choice = SelectField("Option", validate_choice=False)
    choices = SelectMultipleField(
        "Options",
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    remove = BooleanField("Remove this test when saving")


class ConditionEditorForm(BuilderForm):
    join = RadioField(
        "Combine the tests",
        choices=[
            SelectChoice("all", "All of these tests hold"),
            SelectChoice("any", "Any of these tests holds"),
        ],
        default="all",
        validate_choice=False,
    )
    leaves = FieldList(FormField(LeafForm), max_entries=MAX_TESTS + 1)
    add_field = SelectField("Add a test on", validate_choice=False)


class RouteEditorForm(ConditionEditorForm):
    goto = SelectField("Then go to", validate_choice=False)


class DefaultRouteForm(BuilderForm):
    otherwise = SelectField("Otherwise, go to", validate_choice=False)


def editor_from(
    form_class: type[ConditionEditorForm], state: ConditionInput, **data: Any
) -> ConditionEditorForm:
    """An editor showing ``state`` (a stored condition, or what was posted with a test added)."""
    leaves = [
        {
            "field": leaf.field,
            "op": leaf.op,
            "value": leaf.value,
            "value_to": leaf.value_to,
            "choice": leaf.choice,
            "choices": leaf.choices,
        }
        for leaf in state.leaves
    ]
    return form_class(formdata=None, data={"join": state.join, "leaves": leaves, **data})


def condition_input(editor: ConditionEditorForm) -> ConditionInput:
    """What the editor says, without the tests ticked for removal."""
    leaves = [
        LeafInput(
            field=entry.form.field.data or "",
            op=entry.form.op.data or "",
            value=entry.form.value.data or "",
            value_to=entry.form.value_to.data or "",
            choice=entry.form.choice.data or "",
            choices=list(entry.form.choices.data or []),
        )
        for entry in editor.leaves
        if not entry.form.remove.data
    ]
    return ConditionInput(editor.join.data or "all", leaves)


def with_test_added(editor: ConditionEditorForm, specs: dict[str, FieldSpec]) -> ConditionInput:
    """The editor's state with a test on the question chosen in "Add a test on"."""
    state = condition_input(editor)
    key = editor.add_field.data or ""
    operators = operators_of(specs.get(key))
    if operators and len(state.leaves) < MAX_TESTS:
        state.leaves.append(LeafInput(key, next(iter(operators))))
    return state


def prepare_editor(editor: ConditionEditorForm, questions: list[FieldSpec]) -> None:
    """Fill the editor's choices: the questions it may test, and for each test the operators
    and options of its question; ``entry.form.shape`` says which value input to show."""
    by_key = {spec.key: spec for spec in questions}
    question_choices = [SelectChoice(spec.key, _question_label(spec)) for spec in questions]
    editor.add_field.choices = question_choices
    for entry in editor.leaves:
        leaf = entry.form
        spec = by_key.get(leaf.field.data or "")
        operators = operators_of(spec)
        if spec is None:  # an unknown or later question: shown as it is, for its error
            leaf.field.choices = [
                SelectChoice(leaf.field.data or "", f"{leaf.field.data} (not allowed here)"),
                *question_choices,
            ]
        else:
            leaf.field.choices = question_choices
        leaf.op.choices = [SelectChoice(name, OPERATOR_LABELS[name]) for name in operators]
        leaf.shape = operators.get(leaf.op.data or "") or next(iter(operators.values()), "none")
        options = [SelectChoice(value, label) for value, label in choice_options(spec)]
        leaf.choice.choices = [SelectChoice("", "Choose…"), *options]
        leaf.choices.choices = options
        if leaf.shape in VALUE_WIDGETS:
            leaf.value.widget = leaf.value_to.widget = VALUE_WIDGETS[leaf.shape]
        paired = leaf.shape.endswith("_pair")
        leaf.value.label.text = "From" if paired else "Value"


def _question_label(spec: FieldSpec) -> str:
    return f"{spec.label} ({spec.key})" if spec.label else spec.key


def page_choices(pages: list[FieldSpec]) -> list[SelectChoice]:
    """Where a page may lead: later pages, then submit."""
    later = [SelectChoice(page.key, f"{page.label or page.key} ({page.key})") for page in pages]
    return [*later, SelectChoice(SUBMIT, "Submit (the end of the form)")]


def show_editor_errors(editor: ConditionEditorForm, error: InputsInvalid) -> None:
    """Each of the service's messages next to its input: ``leaves[2].value`` is the value input
    test 3 shows; the rest above the editor."""
    for name, messages in error.errors.items():
        target = _input_named(editor, name)
        if target is None:
            editor.form_errors.extend(messages)
        else:
            target.errors = [*target.errors, *messages]
    # A FieldList gathers its entries' errors only when validated; the page's 422 reads them.
    editor.leaves.errors = [entry.errors for entry in editor.leaves.entries]


def _input_named(editor: ConditionEditorForm, name: str):
    if name in ("join", "goto") and name in editor:
        return editor[name]
    if not name.startswith("leaves["):
        return None
    index, _, part = name.removeprefix("leaves[").partition("].")
    if not index.isdigit() or int(index) >= len(editor.leaves.entries):
        return None
    leaf = editor.leaves.entries[int(index)].form
    if part == "value":
        part = {"choice": "choice", "choice_list": "choices"}.get(leaf.shape, "value")
    return leaf._fields.get(part)
