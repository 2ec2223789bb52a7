"""What the builder's pages show of a form's logic: the show-if editor and a page's rules on the
field page, and the page of one rule."""

from __future__ import annotations

from typing import Any

from flask import request

from app.builder.logic_forms import ConditionEditorForm
from app.builder.logic_forms import DefaultRouteForm
from app.builder.logic_forms import RouteEditorForm
from app.builder.logic_forms import editor_from
from app.builder.logic_forms import page_choices
from app.builder.logic_forms import prepare_editor
from app.builder.logic_forms import show_editor_errors
from app.exceptions import InputsInvalid
from app.fields import FieldSpec
from app.flow.describe import describe
from app.flow.pages import PAGE_BREAK
from app.models import Form
from app.services import forms
from app.views import render_form_page


def too_complex(form: Form, condition: Any) -> dict[str, Any] | None:
    """A stored condition the editor cannot show, in words and as JSON; None if it can (or
    when the editor was asked to replace it, ``?replace=1``)."""
    if request.args.get("replace") or forms.editor_input(condition) is not None:
        return None
    specs = {spec.key: spec for spec in form.draft_specs}
    named = form.draft_conditions if isinstance(form.draft_conditions, dict) else {}
    words = describe(condition, specs, named) if isinstance(condition, dict) else ""
    return {"words": words, "condition": condition}


def logic_context(
    form: Form,
    spec: FieldSpec,
    show_if_editor: ConditionEditorForm | None = None,
    default_error: InputsInvalid | None = None,
) -> dict[str, Any]:
    """What the field page shows of a question's or a page break's logic."""
    questions = forms.questions_before(form, spec.key)
    if show_if_editor is None:
        state = forms.editor_input(spec.show_if) or forms.ConditionInput()
        show_if_editor = editor_from(ConditionEditorForm, state)
    prepare_editor(show_if_editor, questions)
    overview = forms.flow_overview(form)
    steps = [step for page in overview.pages for step in (page, *page.questions)]
    step = next(step for step in steps if step.spec is not None and step.spec.key == spec.key)
    context: dict[str, Any] = {
        "show_if_form": show_if_editor,
        "show_if_questions": questions,
        "show_if_complex": too_complex(form, spec.show_if),
        "logic_problems": step.problems,
        "page_step": step if spec.type == PAGE_BREAK else None,
    }
    if spec.type == PAGE_BREAK:
        context["default_route_form"] = _default_form(form, spec, default_error)
    return context


def _default_form(form: Form, spec: FieldSpec, error: InputsInvalid | None) -> DefaultRouteForm:
    default_form = DefaultRouteForm(formdata=None, otherwise=spec.rules.get("default") or "")
    default_form.otherwise.choices = [
        ("", "The next page in order"),
        *page_choices(forms.later_pages(form, spec.key)),
    ]
    if error is not None:
        default_form.otherwise.data = request.form.get("otherwise", "")
        default_form.otherwise.errors = [
            message for messages in error.errors.values() for message in messages
        ]
    return default_form


def route_page(
    form: Form,
    spec: FieldSpec,
    position: int | None,
    editor: RouteEditorForm,
    stored: dict[str, Any],
    error: InputsInvalid | None = None,
) -> tuple[str, int]:
    """The page of one rule of a page break: new (``position`` None) or stored."""
    questions = forms.questions_before(form, spec.key, through_page=True)
    prepare_editor(editor, questions)
    editor.goto.choices = [("", "Choose…"), *page_choices(forms.later_pages(form, spec.key))]
    if error is not None:
        show_editor_errors(editor, error)
    return render_form_page(
        "builder/route.html",
        form=form,
        spec=spec,
        position=position,
        route_form=editor,
        questions=questions,
        complex=too_complex(form, stored.get("if")) if position is not None else None,
    )
