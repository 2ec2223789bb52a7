"""A form's logic in the builder: show-ifs, a page's rules and where it leads otherwise, and the
flow overview. Plain HTML forms (POST, then 303 or the page again with 422); editors only."""

from __future__ import annotations

from flask import request
from flask import url_for

from app.builder import bp
from app.builder.field_routes import editor_page
from app.builder.forms import MoveFieldForm
from app.builder.logic_forms import ConditionEditorForm
from app.builder.logic_forms import DefaultRouteForm
from app.builder.logic_forms import RouteEditorForm
from app.builder.logic_forms import condition_input
from app.builder.logic_forms import editor_from
from app.builder.logic_forms import prepare_editor
from app.builder.logic_forms import show_editor_errors
from app.builder.logic_forms import with_test_added
from app.builder.logic_pages import route_page
from app.builder.pages import answer
from app.builder.pages import field_spec_or_404
from app.builder.pages import load_form
from app.exceptions import InputsInvalid
from app.exceptions import NotFound
from app.exceptions import ValidationFailed
from app.fields import FieldSpec
from app.flow.pages import PAGE_BREAK
from app.models import Form
from app.services import forms
from app.views import render_form_page


def _field_url(form: Form, key: str, anchor: str | None = None) -> str:
    return url_for("builder.edit_field", form_id=form.id, key=key, _anchor=anchor)


@bp.post("/<int:form_id>/fields/<key>/show-if")
def edit_show_if(form_id: int, key: str):
    form = load_form(form_id)
    spec = field_spec_or_404(form, key)
    editor = ConditionEditorForm()
    action = request.form.get("action", "save")
    if action == "remove":
        forms.remove_show_if(form, key)
        message = f"Removed the condition: “{spec.label}” is always shown."
        return answer(form, message, location=_field_url(form, key, "show-if"))
    questions = forms.questions_before(form, key)
    if action == "add":
        state = with_test_added(editor, {item.key: item for item in questions})
        return editor_page(form, spec, show_if_editor=editor_from(ConditionEditorForm, state))
    state = condition_input(editor)
    try:
        condition = forms.save_show_if(form, key, state)
    except InputsInvalid as error:
        editor = editor_from(ConditionEditorForm, state)
        prepare_editor(editor, questions)
        show_editor_errors(editor, error)
        return editor_page(form, spec, show_if_editor=editor)
    message = (
        f"Saved: “{spec.label}” is shown only when its condition holds."
        if condition
        else f"“{spec.label}” is always shown."
    )
    return answer(form, message, location=_field_url(form, key, "show-if"))


# --- a page's rules ------------------------------------------------------------------------------


def _page_spec(form: Form, key: str) -> FieldSpec:
    spec = field_spec_or_404(form, key)
    if spec.type != PAGE_BREAK:
        raise NotFound("No such page.")
    return spec


@bp.route("/<int:form_id>/fields/<key>/routes/new", methods=["GET", "POST"], endpoint="new_route")
@bp.route("/<int:form_id>/fields/<key>/routes/<index:position>", methods=["GET", "POST"])
def edit_route(form_id: int, key: str, position: int | None = None):
    form = load_form(form_id)
    spec = _page_spec(form, key)
    routes = forms.page_routes(form, key)
    if position is not None and position >= len(routes):
        raise NotFound("No such rule.")
    stored = routes[position] if position is not None else {"if": None, "goto": ""}
    if request.method == "GET":
        state = forms.editor_input(stored.get("if")) or forms.ConditionInput()
        return route_page(
            form,
            spec,
            position,
            editor_from(RouteEditorForm, state, goto=stored.get("goto")),
            stored,
        )
    editor = RouteEditorForm()
    questions = forms.questions_before(form, key, through_page=True)
    if request.form.get("action") == "add":
        state = with_test_added(editor, {item.key: item for item in questions})
        editor = editor_from(RouteEditorForm, state, goto=editor.goto.data)
        return route_page(form, spec, position, editor, stored)
    state = condition_input(editor)
    try:
        forms.save_route(form, key, position, state, editor.goto.data or "")
    except InputsInvalid as error:
        editor = editor_from(RouteEditorForm, state, goto=editor.goto.data)
        return route_page(form, spec, position, editor, stored, error)
    return answer(form, "Saved the rule.", location=_field_url(form, key, "routes"))


@bp.post("/<int:form_id>/fields/<key>/routes/<index:position>/move")
def move_route(form_id: int, key: str, position: int):
    form = load_form(form_id)
    _page_spec(form, key)
    wtform = MoveFieldForm()
    if not wtform.validate_on_submit():
        raise ValidationFailed("Say up or down.", field="direction")
    now = forms.move_route(form, key, position, wtform.offset)
    message = f"Rule {position + 1} is now rule {now + 1}."
    return answer(form, message, location=_field_url(form, key, "routes"))


@bp.post("/<int:form_id>/fields/<key>/routes/<index:position>/delete")
def delete_route(form_id: int, key: str, position: int):
    form = load_form(form_id)
    _page_spec(form, key)
    forms.delete_route(form, key, position)
    return answer(form, f"Deleted rule {position + 1}.", location=_field_url(form, key, "routes"))


@bp.post("/<int:form_id>/fields/<key>/default")
def set_default_route(form_id: int, key: str):
    form = load_form(form_id)
    spec = _page_spec(form, key)
    wtform = DefaultRouteForm()
    try:
        forms.set_default_route(form, key, wtform.otherwise.data or None)
    except InputsInvalid as error:
        return editor_page(form, spec, default_error=error)
    return answer(
        form, "Saved where the page leads otherwise.", location=_field_url(form, key, "routes")
    )


# --- the overview -------------------------------------------------------------------------------


@bp.get("/<int:form_id>/flow")
def flow_overview(form_id: int):
    form = load_form(form_id)
    return render_form_page("builder/flow.html", form=form, overview=forms.flow_overview(form))
