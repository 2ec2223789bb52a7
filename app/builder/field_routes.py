"""The draft's fields: add, edit, duplicate, delete, move and reorder them."""

from __future__ import annotations

from flask import jsonify
from flask import render_template
from flask import url_for

from app.builder import bp
from app.builder.forms import AddFieldForm
from app.builder.forms import FieldEditorForm
from app.builder.forms import MoveFieldForm
from app.builder.forms import ReorderForm
from app.builder.forms import editor_data
from app.builder.forms import field_changes
from app.builder.forms import field_editor_class
from app.builder.logic_forms import ConditionEditorForm
from app.builder.logic_pages import logic_context
from app.builder.pages import answer
from app.builder.pages import failed
from app.builder.pages import field_spec_or_404
from app.builder.pages import form_page
from app.builder.pages import load_form
from app.builder.pages import refused
from app.errors import wants_json
from app.exceptions import InputsInvalid
from app.exceptions import ValidationFailed
from app.fields import FieldSpec
from app.fields import get_field_type
from app.models import Form
from app.services import forms


def _in_builder(form: Form, key: str | None = None) -> str:
    anchor = f"field-{key}" if key else None
    return url_for("builder.edit_form", form_id=form.id, _anchor=anchor)


def _field_url(form: Form, key: str) -> str:
    return url_for("builder.edit_field", form_id=form.id, key=key)


@bp.post("/<int:form_id>/fields")
def add_field(form_id: int):
    form = load_form(form_id)
    wtform = AddFieldForm()
    try:
        spec = forms.add_field(form, wtform.type.data or "", wtform.label.data or "")
    except ValidationFailed as error:
        return failed(form, error)
    message = f'Added "{spec.label}" at the end.'
    return answer(form, message, location=_field_url(form, spec.key), status=201, field=spec)


@bp.route("/<int:form_id>/fields/<key>", methods=["GET", "POST"])
def edit_field(form_id: int, key: str):
    form = load_form(form_id)
    spec = field_spec_or_404(form, key)
    field_type = get_field_type(spec.type)
    editor = field_editor_class(field_type)(data=editor_data(spec, field_type))
    if editor.validate_on_submit():
        try:
            saved = forms.update_field(form, key, field_changes(editor, field_type, spec))
        except ValidationFailed as error:
            return refused(editor, error) or editor_page(form, spec, editor)
        message = f'Saved "{saved.label}".'
        return answer(form, message, location=_in_builder(form, saved.key), field=saved)
    return editor_page(form, spec, editor)


def editor_page(
    form: Form,
    spec: FieldSpec,
    editor: FieldEditorForm | None = None,
    *,
    show_if_editor: ConditionEditorForm | None = None,
    default_error: InputsInvalid | None = None,
):
    """The field's page: its settings, and its logic (show-if; a page break's rules)."""
    if editor is None:
        field_type = get_field_type(spec.type)
        editor = field_editor_class(field_type)(formdata=None, data=editor_data(spec, field_type))
    if spec.key in forms.published_keys(form):
        editor.key.render_kw = {"readonly": True}
        editor.key.description = "Published, so it stays: answers are stored under it."
    context = {
        "form": form,
        "editor_form": editor,
        "spec": spec,
        "field_type": get_field_type(spec.type),
    }
    if wants_json() and not editor.errors:
        html = render_template("builder/_field_editor.html", **context)
        return jsonify(field=spec.to_dict(), html=html)
    context |= logic_context(form, spec, show_if_editor, default_error)
    return form_page("builder/field.html", **context)


@bp.post("/<int:form_id>/fields/<key>/duplicate")
def duplicate_field(form_id: int, key: str):
    form = load_form(form_id)
    field_spec_or_404(form, key)
    copy = forms.duplicate_field(form, key)
    message = f'Added "{copy.label}" below the original.'
    return answer(form, message, location=_in_builder(form, copy.key), status=201, field=copy)


@bp.post("/<int:form_id>/fields/<key>/delete")
def delete_field(form_id: int, key: str):
    form = load_form(form_id)
    spec = field_spec_or_404(form, key)
    forms.delete_field(form, key)
    return answer(form, f'Deleted "{spec.label}".', location=_in_builder(form), field=spec)


@bp.post("/<int:form_id>/fields/<key>/move")
def move_field(form_id: int, key: str):
    form = load_form(form_id)
    spec = field_spec_or_404(form, key)
    wtform = MoveFieldForm()
    if not wtform.validate_on_submit():
        error = ValidationFailed("Say up or down.", field="direction")
        return failed(form, error)
    before = forms.field_index(form, key)
    forms.move_field(form, key, wtform.offset)
    after = forms.field_index(form, key)
    where = f"position {after + 1} of {len(form.draft_fields)}"
    if after == before:
        message = f'"{spec.label}" is already at {where}.'
    else:
        message = f'Moved "{spec.label}" to {where}.'
    return answer(form, message, location=_in_builder(form, key), field=spec)


@bp.post("/<int:form_id>/order")
def reorder_fields(form_id: int):
    form = load_form(form_id)
    wtform = ReorderForm()
    try:
        forms.reorder_fields(form, list(wtform.order.data or []))
    except ValidationFailed as error:
        return failed(form, error)
    return answer(form, "Saved the new order.", location=_in_builder(form))
