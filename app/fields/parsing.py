"""Checking field definitions from the builder, the CLI or the API."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import fields
from dataclasses import replace
from typing import Any

from wtforms import Form

from app.exceptions import ValidationFailed
from app.fields.base import FieldType
from app.fields.registry import FIELD_TYPES
from app.fields.rules import RuleReader
from app.fields.spec import FieldSpec

KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,62}")
MAX_KEY_CHARS = 63
# A field named like a Form attribute ("data", "errors", "validate"...) would replace it.
RESERVED_KEYS = frozenset(name for name in dir(Form()) if not name.startswith("_")) | {"csrf_token"}
FIELD_KEYS = frozenset(setting.name for setting in fields(FieldSpec))
MAX_FIELDS = 250
TEXT_LIMITS = {"label": 500, "help": 2000, "placeholder": 200}


def parse_field_specs(raw: Any) -> list[FieldSpec]:
    """Check a whole list of field definitions; raise ``ValidationFailed`` at the first problem.

    The returned specs are normalised: text trimmed, rules with their defaults filled in,
    choices written out as ``{"value", "label"}``, the default answer in its stored form.
    """
    if not isinstance(raw, list) or len(raw) > MAX_FIELDS:
        raise ValidationFailed(f"Fields must be a list of at most {MAX_FIELDS}.", field="fields")
    specs: list[FieldSpec] = []
    for index, item in enumerate(raw):
        spec = parse_field_spec(item, index)
        if any(spec.key == earlier.key for earlier in specs):
            message = f'{describe(item, index)}: the key "{spec.key}" is used by another field.'
            raise ValidationFailed(message, field=f"fields[{index}].key")
        specs.append(spec)
    return specs


def parse_field_spec(item: Any, index: int) -> FieldSpec:
    """Check one field definition, the ``index``-th of its list."""
    path = f"fields[{index}]"
    if not isinstance(item, dict):
        raise ValidationFailed(f"Field {index + 1} must be an object.", field=path)
    name = describe(item, index)
    unknown = sorted(set(item) - FIELD_KEYS)
    if unknown:
        raise ValidationFailed(
            f'{name}: unknown setting "{unknown[0]}".', field=f"{path}.{unknown[0]}"
        )
    field_type = _check_type(item.get("type"), path, name)
    spec = FieldSpec(
        key=_check_key(item.get("key"), path, name),
        type=field_type.name,
        label=_check_text(item, "label", path, name, needed=True),
        help=_check_text(item, "help", path, name),
        placeholder=_check_text(item, "placeholder", path, name),
        required=_check_required(item, field_type, path, name),
        rules=field_type.check_rules(RuleReader(item.get("rules"), f"{path}.rules", name)),
        show_if=_check_show_if(item.get("show_if"), path, name),
        page=_check_page(item.get("page", 0), path, name),
    )
    return _check_default(spec, item.get("default"), field_type, path, name)


def describe(item: Any, index: int) -> str:
    """How messages name a field: by label, else key, else position."""
    if isinstance(item, dict):
        for setting in ("label", "key"):
            text = item.get(setting)
            if isinstance(text, str) and text.strip():
                return f'Field "{text.strip()[:60]}"'
    return f"Field {index + 1}"


def _check_type(type_name: Any, path: str, name: str) -> FieldType:
    field_type = FIELD_TYPES.get(type_name) if isinstance(type_name, str) else None
    if field_type is None:
        known = ", ".join(FIELD_TYPES)
        message = f'{name}: unknown field type "{type_name}" (known: {known}).'
        raise ValidationFailed(message, field=f"{path}.type")
    return field_type


def _check_key(key: Any, path: str, name: str) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        message = (
            f"{name}: the key must start with a lowercase letter and use only a-z, 0-9 and _"
            f" (at most {MAX_KEY_CHARS} characters)."
        )
        raise ValidationFailed(message, field=f"{path}.key")
    if key in RESERVED_KEYS:
        message = f'{name}: the key "{key}" is reserved; please choose another.'
        raise ValidationFailed(message, field=f"{path}.key")
    return key


def _check_text(
    item: dict[str, Any], setting: str, path: str, name: str, *, needed: bool = False
) -> str:
    value = item.get(setting)
    if value is None and not needed:
        return ""
    limit = TEXT_LIMITS[setting]
    if not isinstance(value, str) or len(value.strip()) > limit or (needed and not value.strip()):
        least = 1 if needed else 0
        message = f"{name}: the {setting} must be text of {least} to {limit} characters."
        raise ValidationFailed(message, field=f"{path}.{setting}")
    return value.strip()


def _check_required(item: dict[str, Any], field_type: FieldType, path: str, name: str) -> bool:
    required = item.get("required", False)
    if not isinstance(required, bool):
        raise ValidationFailed(f"{name}: required must be true or false.", field=f"{path}.required")
    # Hidden values and sections cannot be answered by the person, so they are never required.
    return required and field_type.requirable


def _check_show_if(show_if: Any, path: str, name: str) -> Any:
    if show_if is not None and not isinstance(show_if, dict):
        raise ValidationFailed(
            f"{name}: show_if must be an object or null.", field=f"{path}.show_if"
        )
    return show_if


def _check_page(page: Any, path: str, name: str) -> int:
    if not isinstance(page, int) or isinstance(page, bool) or not 0 <= page <= 1000:
        message = f"{name}: page must be a whole number from 0 to 1000."
        raise ValidationFailed(message, field=f"{path}.page")
    return page


def _check_default(
    spec: FieldSpec, raw: Any, field_type: FieldType, path: str, name: str
) -> FieldSpec:
    """``spec`` with its default answer checked by the type and put in stored form."""
    if raw is None:
        return spec
    try:
        default = field_type.normalize_default(raw, spec)
    except ValueError as error:
        message = f"{name}: the default answer is not valid: {error}"
        raise ValidationFailed(message, field=f"{path}.default") from None
    return replace(spec, default=default)


def suggest_key(label: str, taken: set[str]) -> str:
    """A valid key made from ``label`` and not in ``taken``: "Your email" gives "your_email"."""
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^a-z0-9]+", "_", ascii_label.lower()).strip("_")
    if not stem or not stem[0].isalpha():
        stem = f"field_{stem}".rstrip("_")
    stem = stem[:MAX_KEY_CHARS].rstrip("_")
    key, number = stem, 1
    while key in taken or key in RESERVED_KEYS:
        number += 1
        suffix = f"_{number}"
        key = stem[: MAX_KEY_CHARS - len(suffix)].rstrip("_") + suffix
    return key
