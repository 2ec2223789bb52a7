"""Turning a form version's fields into a WTForms class, and a validated form into answers."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.form import FormMeta

from app.fields.registry import get_field_type
from app.fields.spec import FieldSpec
from app.fields.validators import recorded_answer


def build_form_class(specs: Iterable[FieldSpec]) -> type[Form]:
    """A new form class with one field per answerable spec, named by its key.

    A new class on every call, so no request sees another's fields. No CSRF: callers check tokens.
    """
    fields: dict[str, Any] = {}
    for spec in specs:
        unbound = get_field_type(spec.type).build_field(spec)
        if unbound is not None:
            fields[spec.key] = unbound
    return FormMeta("SubmissionForm", (Form,), fields)


def prefill_data(specs: Iterable[FieldSpec], query: Mapping[str, Any]) -> dict[str, Any]:
    """Field data from the link's query string, for ``form_class(data=...)``."""
    data: dict[str, Any] = {}
    for spec in specs:
        field_type = get_field_type(spec.type)
        values = _query_values(query, spec.key)
        if field_type.prefillable and values:
            data[spec.key] = field_type.prefill_data(values, spec)
    return data


def _query_values(query: Mapping[str, Any], key: str) -> list[str]:
    if isinstance(query, MultiDict):
        return [str(value) for value in query.getlist(key)]
    value = query.get(key)
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def answers_from(form: Form, specs: Iterable[FieldSpec]) -> dict[str, Any]:
    """The answers of a validated form by key, as stored; a file is an ``UploadedFile``.

    Raises ``ValueError`` when a field was not validated successfully.
    """
    return {
        spec.key: recorded_answer(form[spec.key])
        for spec in specs
        if get_field_type(spec.type).takes_answer
    }


def needs_multipart(specs: Iterable[FieldSpec]) -> bool:
    """Whether the form's ``<form>`` must be ``enctype="multipart/form-data"``."""
    return any(get_field_type(spec.type).takes_upload for spec in specs)
