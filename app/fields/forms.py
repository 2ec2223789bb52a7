"""Turning a form version's fields into a WTForms class, and a validated form into answers."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.fields import Field
from wtforms.form import FormMeta
from wtforms.meta import DefaultMeta

from app.fields.registry import get_field_type
from app.fields.spec import FieldSpec
from app.fields.validators import recorded_answer


class SubmissionForm(Form):
    """A form version's questions. Each instance binds its fields by copying the ones the
    class's first form bound (``_prototypes``), kept as they were before any input.

    Binding a WTForms field runs ``Field.__init__``, which checks the validators and builds the
    label and the flags, to rebuild what is the same on every request (bench/README.md says
    what it cost a post). Those parts are only read once bound, so copies share them; what a
    request changes (data, raw data, errors) each copy sets for itself when the form processes
    its input, which WTForms does as it builds every form.
    """

    _prototypes: dict[str, Field] = {}  # build_form_class gives each class its own

    class Meta(DefaultMeta):
        def bind_field(self, form: Form, unbound_field: Any, options: dict[str, Any]) -> Field:
            # A prefix (the builder's preview) or translations change the bound field.
            if options["prefix"] or options["translations"] is not None:
                return super().bind_field(form, unbound_field, options)
            prototypes = type(form)._prototypes
            prototype = prototypes.get(options["name"])
            if prototype is None:
                field = super().bind_field(form, unbound_field, options)
                prototypes[options["name"]] = _copy(field)  # as bound, before any input
                return field
            field = _copy(prototype)
            field._form = form
            field.meta = self
            return field


def _copy(field: Field) -> Field:
    copied = object.__new__(type(field))
    copied.__dict__.update(field.__dict__)
    return copied


def build_form_class(specs: Iterable[FieldSpec]) -> type[SubmissionForm]:
    """A new form class with one field per answerable spec, named by its key.

    A new class on every call, so no request sees another's fields. No CSRF: callers check tokens.
    """
    fields: dict[str, Any] = {}
    for spec in specs:
        unbound = get_field_type(spec.type).build_field(spec)
        if unbound is not None:
            fields[spec.key] = unbound
    form_class = FormMeta("SubmissionForm", (SubmissionForm,), fields)
    form_class._prototypes = {}
    return form_class


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
