"""Forms as code: a form's definition as JSON, to keep in git and move between instances."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from json_source_map import calculate

from app.exceptions import ValidationFailed
from app.extensions import db
from app.fields import parse_field_specs
from app.flow.pages import pages_of_draft
from app.flow.pages import questions_of_draft
from app.models import Form
from app.models import FormKind
from app.models import FormStatus
from app.models import FormVersion
from app.services import forms
from app.services.forms.settings import SETTINGS
from app.services.forms.settings import STATUS
from app.services.forms.settings import Setting
from app.services.forms.settings import SettingKind

FORMAT_VERSION = 1
TOP_LEVEL_KEYS = {
    "formyard",
    "slug",
    "title",
    "description",
    "kind",
    "status",
    "settings",
    "conditions",
    "fields",
}
# A definition gives the status at its top level, next to the fields that it publishes.
FILE_SETTINGS = tuple(setting for setting in SETTINGS if setting is not STATUS)
SETTING_KEYS = {setting.name for setting in FILE_SETTINGS}


class DefinitionError(ValidationFailed):
    """A definition file is not valid; ``line`` is where (1-based), when known."""

    def __init__(self, message: str, *, line: int | None = None, field: str | None = None) -> None:
        super().__init__(message, field=field, code="invalid_definition")
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


def export_definition(form: Form) -> dict[str, Any]:
    """The draft's fields, details and settings: what `import_definition` reads back."""
    return {
        "formyard": FORMAT_VERSION,
        "slug": form.slug,
        "title": form.title,
        "description": form.description,
        "kind": form.kind.value,
        "status": form.status.value,
        "settings": {
            setting.name: _setting_to_json(setting, setting.value_of(form))
            for setting in FILE_SETTINGS
        },
        "fields": list(form.draft_fields),
    } | ({"conditions": form.draft_conditions} if form.draft_conditions else {})


def import_definition(text: str) -> tuple[Form, bool]:
    """Create the form the definition describes, or update the one with its slug.

    A definition whose status is open or closed is published, so the live page matches the
    file. Returns the form and whether it was created. Errors name the line of the file. No
    person is recorded as creating or publishing it.
    """
    data = _parse(text)
    try:
        return _apply(data)
    except ValidationFailed as error:
        db.session.rollback()
        raise DefinitionError(
            error.message, line=_line_of(text, error.field), field=error.field
        ) from None


def _parse(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise DefinitionError(f"not valid JSON: {error.msg}", line=error.lineno) from None
    if not isinstance(data, dict):
        raise DefinitionError("the file must hold one JSON object", line=1)
    unknown = sorted(set(data) - TOP_LEVEL_KEYS)
    if unknown:
        raise DefinitionError(f'unknown key "{unknown[0]}"', line=_line_of(text, unknown[0]))
    if data.get("formyard") != FORMAT_VERSION:
        raise DefinitionError(
            f'"formyard" must be {FORMAT_VERSION} (the definition format version)',
            line=_line_of(text, "formyard"),
        )
    return data


def _apply(data: dict[str, Any]) -> tuple[Form, bool]:
    slug = _text(data, "slug")
    parse_field_specs(data.get("fields", []))  # every field checked before anything is written
    form = forms.get_form_by_slug(slug)
    created = form is None
    if form is None:
        kind = _choice(data, "kind", FormKind, FormKind.BUILT)
        form = forms.create_form(None, title=_text(data, "title"), slug=slug, kind=kind)
    forms.update_details(
        form, title=_text(data, "title"), description=data.get("description") or "", slug=slug
    )
    forms.save_fields(form, data.get("fields", []))
    forms.save_conditions(form, data.get("conditions"))
    status = _choice(data, "status", FormStatus, FormStatus.DRAFT)
    _apply_settings(form, data.get("settings") or {}, status)
    if status != FormStatus.DRAFT and _differs_from_published(form):
        forms.publish(form, None)
    return form, created


def _differs_from_published(form: Form) -> bool:
    # By id: the relationship may still hold what it held before this session published.
    version = db.session.get(FormVersion, form.published_version_id or -1)
    if version is None:
        return True
    items = parse_field_specs(form.draft_fields)
    published = version.schema
    same = (
        version.title,
        version.description,
        published.get("fields"),
        published.get("pages"),
        published.get("conditions"),
    ) == (
        form.title,
        form.description,
        [spec.to_dict() for spec in questions_of_draft(items)],
        pages_of_draft(items),
        form.draft_conditions or None,
    )
    if same:
        form.has_unpublished_changes = False
        db.session.commit()
    return not same


def _apply_settings(form: Form, settings: Any, status: FormStatus) -> None:
    if not isinstance(settings, dict):
        raise ValidationFailed("settings must be an object", field="settings")
    unknown = sorted(set(settings) - SETTING_KEYS)
    if unknown:
        raise ValidationFailed(f'unknown setting "{unknown[0]}"', field=f"settings.{unknown[0]}")
    values = {
        setting.name: _setting_from_json(setting, settings.get(setting.name, setting.default))
        for setting in FILE_SETTINGS
    }
    forms.update_settings(form, status=status.value, **values)


def _setting_to_json(setting: Setting, value: Any) -> Any:
    if setting.kind is SettingKind.TIME and value is not None:
        return value.isoformat()
    return value


def _setting_from_json(setting: Setting, value: Any) -> Any:
    # Only the shape is checked here: forms.update_settings checks the value.
    match setting.kind:
        case SettingKind.TIME:
            return _datetime(value, setting.name)
        case SettingKind.COUNT:
            return _optional_int(value, setting.name)
        case SettingKind.TEXT:
            return str(value or setting.default)
        case SettingKind.FLAG:
            return bool(value)
        case SettingKind.TEXT_LIST | SettingKind.CHOICE_LIST:
            return _text_list(value, setting.name)
    return value


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(f'"{key}" must be non-empty text', field=key)
    return value


def _choice(data: dict[str, Any], key: str, enum_class, default):
    try:
        return enum_class(data.get(key) or default)
    except ValueError:
        choices = ", ".join(member.value for member in enum_class)
        raise ValidationFailed(f'"{key}" must be one of {choices}', field=key) from None


def _datetime(value: Any, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValidationFailed(
            f"{name} must be an ISO 8601 time with its zone, like 2026-12-31T18:00:00+00:00",
            field=f"settings.{name}",
        )
    return moment


def _optional_int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed("must be a whole number or null", field=f"settings.{name}")
    return value


def _text_list(value: Any, name: str) -> list[str]:
    items = value or []
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ValidationFailed(f"{name} must be a list of text", field=f"settings.{name}")
    return items


def _line_of(text: str, path: str | None) -> int | None:
    """The 1-based line of ``fields[3].rules.max_length`` in the JSON text, or of its nearest
    parent that exists there."""
    if not path:
        return None
    parts = [part for part in re.split(r"[.\[\]]", path) if part]
    try:
        positions = calculate(text)
    except Exception:  # the text parsed as JSON already; this is only for a nicer message
        return None
    while parts:
        entry = positions.get("/" + "/".join(parts))
        if entry is not None:
            return (entry.key_start or entry.value_start).line + 1
        parts.pop()
    return None
