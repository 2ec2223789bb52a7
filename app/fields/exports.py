"""Showing and exporting stored answers, also those whose field was removed or changed."""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any

from app.fields.base import ExportContext
from app.fields.base import FieldType
from app.fields.base import escape_formula
from app.fields.number import format_number
from app.fields.registry import FIELD_TYPES
from app.fields.spec import FieldSpec
from app.fields.upload import display_file
from app.fields.upload import file_json
from app.fields.upload import is_file_reference

# An answer stored under an older version may not fit the spec it is shown with now.
MISFIT = (TypeError, ValueError, KeyError, AttributeError, IndexError)


def display_answer(value: Any, spec: FieldSpec | None) -> str:
    """An answer as a person reads it; ``spec`` None for a field no longer in the form."""
    if value is None:
        return ""
    field_type = _type_for(spec)
    if field_type is not None and spec is not None:
        with suppress(*MISFIT):
            return field_type.display(value, spec)
    return display_any(value)


def answer_csv_cell(value: Any, spec: FieldSpec | None, context: ExportContext) -> str:
    """An answer as one CSV cell; formulas are neutralised."""
    if value is None:
        return ""
    field_type = _type_for(spec)
    if field_type is not None and spec is not None:
        with suppress(*MISFIT):
            return field_type.csv_cell(value, spec, context)
    return csv_cell_any(value, context)


def answer_json_value(value: Any, spec: FieldSpec | None, context: ExportContext) -> Any:
    """An answer as a JSON-native value."""
    if value is None:
        return None
    field_type = _type_for(spec)
    if field_type is not None and spec is not None:
        with suppress(*MISFIT):
            return field_type.json_value(value, spec, context)
    return file_json(value, context) if is_file_reference(value) else value


def _type_for(spec: FieldSpec | None) -> FieldType | None:
    return None if spec is None else FIELD_TYPES.get(spec.type)


def display_any(value: Any) -> str:
    """Any stored answer shown without knowing its field."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, list):
        return ", ".join(display_any(item) for item in value)
    if is_file_reference(value):
        return display_file(value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def csv_cell_any(value: Any, context: ExportContext) -> str:
    """Any stored answer as a CSV cell without knowing its field."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return format_number(value)
    if is_file_reference(value):
        return context.file_url(value)
    if isinstance(value, list):
        return escape_formula("; ".join(display_any(item) for item in value))
    return escape_formula(display_any(value))
