"""The builder's forms: a new form, its details and settings, and the editor of one field.

They only turn what was typed into values; the forms service and the field registry check them.
"""

from __future__ import annotations

import math
import re
from typing import Any

from flask import request
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField
from wtforms import DateTimeLocalField
from wtforms import Field
from wtforms import IntegerField
from wtforms import RadioField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms import URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput
from wtforms.widgets import DateInput
from wtforms.widgets import ListWidget
from wtforms.widgets import NumberInput

from app.builder.timezones import user_zone
from app.fields import FieldSpec
from app.fields import FieldType
from app.fields import RuleInput
from app.fields.filekinds import FILE_KINDS
from app.fields.filekinds import KIND_NAMES
from app.models import Form
from app.services.forms.settings import MAX_RETENTION_DAYS
from app.services.forms.settings import SETTINGS
from app.services.forms.settings import Setting
from app.services.forms.settings import SettingKind
from app.services.forms.templates import TEMPLATE_TITLES
from app.services.forms.templates import TEMPLATES

FIELD_PATH = re.compile(r"fields\[\d+\]\.(?P<setting>.+)")
PATH_PART_END = re.compile(r"[.\[]")
STATUS_CHOICES = [
    SelectChoice("draft", "Draft: not taking answers"),
    SelectChoice("open", "Open: taking answers"),
    SelectChoice("closed", "Closed: no more answers"),
]


class BuilderForm(FlaskForm):
    """A FlaskForm that also reads JSON bodies, where ``null`` is an input left empty."""

    class Meta:
        def wrap_formdata(self, form, formdata):
            wrapped = super().wrap_formdata(form, formdata)
            if wrapped is None or not request.is_json:
                return wrapped
            items = wrapped.items(multi=True)
            return MultiDict([(key, "" if value is None else value) for key, value in items])


ENDPOINT_CHOICE = "endpoint"


class NewFormForm(BuilderForm):
    template = RadioField(
        "Start from",
        choices=[SelectChoice(name, TEMPLATE_TITLES.get(name, name)) for name in TEMPLATES]
        + [
            SelectChoice(
                ENDPOINT_CHOICE,
                "No questions: an endpoint your own website's HTML form posts to",
            )
        ],
        default="blank",
        validate_choice=False,  # the service names the templates it knows
    )
    title = StringField("Title", description="Optional: the template's own title when empty.")


class DetailsForm(BuilderForm):
    title = StringField("Title")
    description = TextAreaField(
        "Description",
        description="Shown above the questions. Markdown: **bold**, _italic_, [link](https://…).",
    )
    slug = StringField("Address", description="The public page is /f/ followed by this.")


class AddFieldForm(BuilderForm):
    type = StringField("Type")
    label = StringField("Label")


class MoveFieldForm(BuilderForm):
    direction = SelectField(
        "Direction", choices=[SelectChoice("up", "Up"), SelectChoice("down", "Down")]
    )

    @property
    def offset(self) -> int:
        return -1 if self.direction.data == "up" else 1


class ReorderForm(BuilderForm):
    order = SelectMultipleField("Order", choices=[], validate_choice=False)


class SettingsForm(BuilderForm):
    # One input per setting of forms.settings.SETTINGS, in its order (a test holds them equal):
    # how each is asked for is the builder's own choice.
    status = SelectField("Status", choices=STATUS_CHOICES, validate_choice=False)
    closes_at = DateTimeLocalField(
        "Closes at",
        validators=[Optional()],
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        tz=user_zone,  # typed in the user's zone; the service stores it in UTC
    )
    max_responses = IntegerField(
        "Maximum responses",
        validators=[Optional()],
        widget=NumberInput(min=1),
        description="The form closes by itself after this many. Empty: no limit.",
    )
    confirmation_message = TextAreaField(
        "Confirmation message",
        description="Shown after someone submits. Markdown. Empty: a short thank-you.",
    )
    redirect_url = URLField(
        "Redirect after submitting",
        description="Optional: send people to this address instead of showing the message.",
    )
    submit_label = StringField("Submit button text")
    one_response_per_browser = BooleanField("One response per browser")
    allowed_origins = TextAreaField(
        "Websites that may embed or post to this form",
        description="One per line, like https://www.example.org (no path).",
    )
    allow_saving = BooleanField(
        "Let respondents save and finish later",
        description="They get a link to come back to their answers, in any browser.",
    )
    resume_days = IntegerField(
        "Days a saved answer waits",
        validators=[Optional()],
        widget=NumberInput(min=1, max=365),
        description="From 1 to 365. Unsaved answers between pages wait 7 days.",
    )
    one_question_per_page = BooleanField(
        "Display: one question at a time",
        description="Every question on a page of its own; Enter continues.",
    )
    check_answers = BooleanField(
        "Show a “Check your answers” page before sending",
        description="Respondents see all their answers, and may change any, before they send.",
    )
    spam_threshold = IntegerField(
        "Spam score that sends a response to Spam",
        validators=[Optional()],
        widget=NumberInput(min=1, max=1000),
        description="From 1 to 1000; 50 by default. Each sign of a bot adds to a response's "
        "score (README, “Spam”). Lower catches more, and risks more real responses in Spam.",
    )
    require_proof_of_work = BooleanField(
        "Require proof of work",
        description="Respondents' browsers must solve a small puzzle (about a second) with "
        "JavaScript on. Without it, a missing solution only adds to the spam score.",
    )
    endpoint_file_kinds = SelectMultipleField(
        "Files this form keeps",
        choices=[SelectChoice(kind, KIND_NAMES[kind].capitalize()) for kind in FILE_KINDS],
        validate_choice=False,  # the service names the kinds it knows
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        description="Each file is checked by its content, not only its name. Web pages, SVG, "
        "scripts and programs are never kept. None ticked: files are refused.",
    )
    retention_days = IntegerField(
        "Delete submissions after this many days",
        validators=[Optional()],
        widget=NumberInput(min=1, max=MAX_RETENTION_DAYS),
        description="Their files and the emails and webhook calls carrying them go too. "
        "Empty: the site's default.",
    )
    forward_only = BooleanField(
        "Forward only: delete each submission once it is delivered",
        description="Once every email and webhook call for it has been delivered, the "
        "submission and its files are deleted. One that is never delivered is kept.",
    )

    def settings(self, stored: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments of ``forms.update_settings``; a setting this page does not
        ask for (``settings_form`` leaves some out) keeps its ``stored`` value."""
        return {
            setting.name: (
                _read_setting(setting, self[setting.name].data)
                if setting.name in self
                else stored[setting.name]
            )
            for setting in SETTINGS
        }


# Settings that only one kind of form has: a built form's file questions say what they take.
ENDPOINT_ONLY_SETTINGS = ("endpoint_file_kinds",)


def settings_form(form: Form) -> SettingsForm:
    """The settings page's form for ``form``, without the inputs its kind has no use for."""
    wtform = SettingsForm(data=settings_data(form))
    if not form.is_endpoint:
        for name in ENDPOINT_ONLY_SETTINGS:
            del wtform[name]
    return wtform


def settings_data(form: Form) -> dict[str, Any]:
    """The settings form's initial data from the stored form."""
    return {setting.name: _show_setting(setting, setting.value_of(form)) for setting in SETTINGS}


def _show_setting(setting: Setting, value: Any) -> Any:
    return "\n".join(value) if setting.kind is SettingKind.TEXT_LIST else value


def _read_setting(setting: Setting, data: Any) -> Any:
    if setting.kind is SettingKind.TEXT:
        return data or ""
    if setting.kind is SettingKind.TEXT_LIST:
        return (data or "").splitlines()
    return data


# --- the editor of one field ------------------------------------------------------------------


class FieldEditorForm(BuilderForm):
    """Settings every field has; ``field_editor_class`` adds the ones its type takes."""

    label = StringField("Label")
    key = StringField("Key", description="Names the answer in exports and the API: a-z, 0-9 and _.")
    help = TextAreaField("Help text", description="Shown under the label.")

    def rule_fields(self) -> list[Field]:
        return [field for name, field in self._fields.items() if name.startswith("rule_")]


def _rule_field(rule: RuleInput) -> Field:
    options: dict[str, Any] = {"description": rule.help}
    choices = [SelectChoice(value, label) for value, label in rule.options]
    if rule.kind in ("integer", "number"):
        step = 1 if rule.kind == "integer" else "any"
        return StringField(rule.label, widget=NumberInput(step=step), **options)
    if rule.kind == "date":
        return StringField(rule.label, widget=DateInput(), **options)
    if rule.kind == "select":
        return SelectField(rule.label, choices=choices, validate_choice=False, **options)
    if rule.kind == "checkboxes":
        return SelectMultipleField(
            rule.label,
            choices=choices,
            validate_choice=False,
            widget=ListWidget(prefix_label=False),
            option_widget=CheckboxInput(),
            **options,
        )
    if rule.kind == "choices":
        return TextAreaField(rule.label, render_kw={"rows": 5}, **options)
    return StringField(rule.label, **options)


def field_editor_class(field_type: FieldType) -> type[FieldEditorForm]:
    """A new editor class for ``field_type`` (built per request, never shared)."""
    fields: dict[str, Field] = {}
    if field_type.takes_placeholder:
        fields["placeholder"] = StringField(
            "Placeholder", description="Example text shown in the empty box."
        )
    if field_type.requirable:
        fields["required"] = BooleanField("Required")
    if field_type.default_input == "text":
        fields["default"] = StringField("Default answer", description="Optional.")
    elif field_type.default_input == "lines":
        fields["default"] = TextAreaField(
            "Default answers", description="Optional: option values ticked in advance, one a line."
        )
    for rule in field_type.rule_inputs:
        fields[f"rule_{rule.name}"] = _rule_field(rule)
    return type(f"{type(field_type).__name__}Editor", (FieldEditorForm,), fields)


def editor_data(spec: FieldSpec, field_type: FieldType) -> dict[str, Any]:
    """The editor's initial data for ``spec``."""
    data: dict[str, Any] = {
        "label": spec.label,
        "key": spec.key,
        "help": spec.help,
        "placeholder": spec.placeholder,
        "required": spec.required,
        "default": _show_default(spec.default, field_type),
    }
    for rule in field_type.rule_inputs:
        data[f"rule_{rule.name}"] = _show_rule(rule, spec.rules.get(rule.name))
    return data


def field_changes(
    editor: FieldEditorForm, field_type: FieldType, spec: FieldSpec | None = None
) -> dict[str, Any]:
    """The editor's data as settings for ``forms.update_field``; rules the editor does not
    show (a page break's routes, set on their own form) stay as ``spec`` has them."""
    changes: dict[str, Any] = {
        "label": editor.label.data or "",
        "key": (editor.key.data or "").strip(),
        "help": editor.help.data or "",
    }
    if "placeholder" in editor:
        changes["placeholder"] = editor.placeholder.data or ""
    if "required" in editor:
        changes["required"] = bool(editor.required.data)
    if "default" in editor:
        changes["default"] = _read_default(editor.default.data, field_type)
    rules = {
        rule.name: _read_rule(rule, editor[f"rule_{rule.name}"].data)
        for rule in field_type.rule_inputs
    }
    # An empty input means "the type's default", which the registry fills in.
    shown = {name: value for name, value in rules.items() if value is not None}
    kept = {
        name: value
        for name, value in (spec.rules if spec else {}).items()
        if name not in {rule.name for rule in field_type.rule_inputs}
    }
    changes["rules"] = kept | shown
    return changes


def input_name_for(path: str | None) -> str | None:
    """The input showing the setting at a registry path: ``fields[3].rules.max_length`` is
    ``rule_max_length``, ``fields[0].key`` is ``key``, ``slug`` is ``slug``."""
    if not path:
        return None
    match = FIELD_PATH.fullmatch(path)
    setting = match.group("setting") if match else path
    if setting.startswith("rules."):
        return "rule_" + PATH_PART_END.split(setting.removeprefix("rules."))[0]
    return PATH_PART_END.split(setting)[0]


def _show_default(default: Any, field_type: FieldType) -> str:
    if default is None:
        return ""
    if field_type.default_input == "lines" and isinstance(default, list):
        return "\n".join(str(value) for value in default)
    return str(default)


def _read_default(text: str | None, field_type: FieldType) -> Any:
    text = (text or "").strip()
    if field_type.default_input == "lines":
        values = [line.strip() for line in text.splitlines() if line.strip()]
        return values or None
    return text or None


def _show_rule(rule: RuleInput, value: Any) -> Any:
    if value is None:
        return [] if rule.kind == "checkboxes" else ""
    if rule.kind == "choices":
        return "\n".join(_choice_line(choice) for choice in value)
    if rule.kind == "checkboxes":
        return list(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _choice_line(choice: Any) -> str:
    if isinstance(choice, dict) and choice.get("label", choice["value"]) != choice["value"]:
        return f"{choice['value']}|{choice['label']}"
    return choice["value"] if isinstance(choice, dict) else str(choice)


def _read_rule(rule: RuleInput, data: Any) -> Any:
    """The rule as the registry takes it; what cannot be read is passed on for it to refuse."""
    if rule.kind == "checkboxes":
        return list(data or [])
    if rule.kind == "choices":
        return [_read_choice(line) for line in str(data or "").splitlines() if line.strip()]
    if data is None or isinstance(data, bool):
        return None
    if isinstance(data, int | float):
        return data
    if not str(data).strip():
        return None
    if rule.kind in ("integer", "number"):
        return _read_number(str(data).strip())
    return str(data) if rule.kind == "text" else str(data).strip()


def _read_choice(line: str) -> str | dict[str, str]:
    if "|" not in line:
        return line.strip()
    value, label = line.split("|", 1)
    return {"value": value.strip(), "label": label.strip()}


def _read_number(text: str) -> int | float | str:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text
