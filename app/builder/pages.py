"""What the builder's routes share: finding the form, and answering in JSON or HTML.

One route serves both the builder's JavaScript (which asks for JSON) and plain HTML forms
(which get a 303 redirect, or the page again with the error next to its input).
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask import current_app
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from markupsafe import escape

from app.builder.forms import DetailsForm
from app.builder.forms import input_name_for
from app.errors import json_error
from app.errors import wants_json
from app.exceptions import DomainError
from app.exceptions import ValidationFailed
from app.fields import FIELD_TYPES
from app.fields import FieldSpec
from app.fields import build_form_class
from app.fields import get_field_type
from app.fields import needs_multipart
from app.markdown import render_markdown
from app.models import Form
from app.services import forms
from app.views import add_domain_error
from app.views import forms_with_errors
from app.views import render_form_page

SNIPPET_INPUTS = {
    "long_text": '<textarea name="{key}"></textarea>',
    "email": '<input type="email" name="{key}">',
    "number": '<input type="number" name="{key}">',
    "date": '<input type="date" name="{key}">',
    "file": '<input type="file" name="{key}">',
    "multiple_choice": '<input type="checkbox" name="{key}" value="...">',
    "consent": '<input type="checkbox" name="{key}" value="yes">',
}


def load_form(form_id: int, action: forms.Action = "edit", *, trashed: bool = False) -> Form:
    """The form if the signed-in user may ``action`` it; NotFound or NotAllowed otherwise."""
    return forms.get_form_for(current_user, form_id, action, trashed=trashed)


def field_spec_or_404(form: Form, key: str) -> FieldSpec:
    """The draft's field ``key``; NotFound, so 404, if the draft has none."""
    return form.draft_specs[forms.field_index(form, key)]


def public_path(form: Form) -> str:
    return f"/f/{form.slug}"


def public_url(form: Form) -> str:
    return current_app.config["BASE_URL"] + public_path(form)


def embed_snippet(form: Form) -> str:
    """HTML for other websites to embed the form; their page, so an inline style is fine."""
    base = current_app.config["BASE_URL"]
    return (
        f'<iframe src="{escape(public_url(form))}/embed" title="{escape(form.title)}" '
        'class="formyard-embed" style="width:100%;border:0" loading="lazy"></iframe>\n'
        f'<script src="{escape(base)}/static/js/embed.js" async></script>'
    )


def endpoint_snippet(form: Form) -> str:
    """An HTML form for a static site that posts to this form, one input per question."""
    specs = [spec for spec in form.draft_specs if get_field_type(spec.type).takes_answer]
    multipart = ' enctype="multipart/form-data"' if needs_multipart(specs) else ""
    lines = [f'<form action="{escape(public_url(form))}" method="POST"{multipart}>']
    for spec in specs:
        tag = SNIPPET_INPUTS.get(spec.type, '<input name="{key}">').format(key=spec.key)
        lines.append(f"  <label>{escape(spec.label)} {tag}</label>")
    lines.append('  <input type="text" name="_gotcha" style="display:none">')
    lines.append(f"  <button>{escape(form.submit_label)}</button>")
    lines.append("</form>")
    return "\n".join(lines)


def proof_of_work_snippet(form: Form) -> str:
    """The ALTCHA widget for a static site's form: it fetches the form's challenge (CORS for
    the form's websites) and puts its solution in the form's "altcha" field."""
    base = current_app.config["BASE_URL"]
    return (
        f'<script src="{escape(base)}/static/vendor/altcha/altcha.site.min.js" async></script>\n'
        "<!-- inside your <form>, before its button: -->\n"
        f'<altcha-widget challenge="{escape(public_url(form))}/challenge" name="altcha" '
        'auto="onload"></altcha-widget>'
    )


# --- answers ----------------------------------------------------------------------------------


def answer(
    form: Form,
    message: str,
    *,
    location: str,
    status: int = 200,
    field: FieldSpec | None = None,
    fragments: bool = True,
) -> Any:
    """Success: the form's new state as JSON, or a redirect (303) with ``message`` flashed."""
    if not wants_json():
        flash(message, "success")
        return redirect(location, 303)
    body: dict[str, Any] = {"message": message, "form": form_state(form)}
    if field is not None:
        body["field"] = field.to_dict()
    if fragments:
        body["html"] = builder_fragments(form)
    response = jsonify(body)
    response.status_code = status
    if status == 201:
        response.headers["Location"] = location
    return response


def json_domain_error(error: DomainError) -> Response:
    """422 (or the error's own status) with the message at its field path in ``details``."""
    return json_error(error.status, error.code, error.message, error.field_errors)


def json_form_errors(wtform: FlaskForm) -> Response:
    """422 for input the form could not even read (a date that is no date, say)."""
    details = {name: list(messages) for name, messages in wtform.errors.items()}
    first = next(iter(details.values()), ["Some of what you sent is not valid."])[0]
    return json_error(422, "invalid", first, details)


def refused(wtform: FlaskForm, error: DomainError) -> Response | None:
    """A service said no: JSON clients get the error now; for a page, it goes next to its input
    and None is returned, so the caller renders the page again."""
    if wants_json():
        return json_domain_error(error)
    show_error(wtform, error)
    return None


def form_page(template: str, **context: Any) -> Any:
    """The page with its WTForms forms (422 when one has errors); JSON clients get only the
    errors."""
    failed = forms_with_errors(context)
    if failed and wants_json():
        return json_form_errors(failed[0])
    return render_form_page(template, **context)


def show_error(wtform: FlaskForm, error: DomainError) -> None:
    """Put a service's error next to the input that holds the setting it names."""
    add_domain_error(wtform, ValidationFailed(error.message, field=input_name_for(error.field)))


def form_state(form: Form) -> dict[str, Any]:
    """The form as the builder's JavaScript sees it."""
    return {
        "id": form.id,
        "title": form.title,
        "slug": form.slug,
        "description": form.description,
        "status": form.status.value,
        "availability": form.availability().value,
        "has_unpublished_changes": form.has_unpublished_changes,
        "published_version_id": form.published_version_id,
        "fields": form.draft_fields,
        "urls": {
            "builder": url_for("builder.edit_form", form_id=form.id),
            "settings": url_for("builder.form_settings", form_id=form.id),
            "public": public_path(form),
        },
    }


# --- the builder page ---------------------------------------------------------------------------


def builder_fragments(form: Form) -> dict[str, str]:
    """The parts of the builder page that change when the draft does."""
    context = builder_context(form)
    return {
        "fields": render_template("builder/_field_list.html", **context),
        "preview": str(context["preview"]),
        "status": render_template("builder/_publish_state.html", **context),
    }


def builder_context(form: Form) -> dict[str, Any]:
    return {
        "form": form,
        "specs": form.draft_specs,
        "field_types": FIELD_TYPES,
        "locked_keys": forms.published_keys(form),
        "flow_problems": forms.flow_problems_of(form),
        "preview": render_preview(form),
    }


def render_preview(form: Form) -> Markup:
    """The draft exactly as the public page will show it, with nothing to submit to, and its
    logic in words where it applies: when a question or a page is shown, where a page leads."""
    specs = form.draft_specs
    overview = forms.flow_overview(form)
    conditions = {
        question.spec.key: question.shown_if
        for page in overview.pages
        for question in page.questions
        if question.shown_if
    }
    page_logic = {page.id: page for page in overview.pages if page.spec is not None}
    html = render_template(
        "builder/_preview.html",
        title=form.title,
        description=render_markdown(form.description),
        specs=specs,
        # Prefixed ids, so a field keyed "title" does not clash with the details form's input.
        respondent_form=build_form_class(specs)(prefix="preview-"),
        action=None,
        token="",
        multipart=needs_multipart(specs),
        submit_label=form.submit_label,
        preview=True,
        conditions=conditions,
        page_logic=page_logic,
    )
    return Markup(html)  # noqa: S704 (rendered by Jinja with autoescape)


def render_builder(
    form: Form, details: DetailsForm | None = None, error: DomainError | None = None
) -> tuple[str, int]:
    """The builder page; with ``error``, 422 and the message by its input or at the top."""
    details = details or DetailsForm(formdata=None, obj=form)
    page_errors: list[str] = []
    if error is not None:
        if input_name_for(error.field) in details:
            show_error(details, error)
        else:
            page_errors.append(error.message)
    template = "builder/edit.html"
    page, status = render_form_page(
        template, details_form=details, page_errors=page_errors, **builder_context(form)
    )
    return page, 422 if page_errors else status


def failed(form: Form, error: DomainError) -> Any:
    """A field or publish action the service refused: JSON, or the builder page again."""
    if wants_json():
        return json_domain_error(error)
    return render_builder(form, error=error)
