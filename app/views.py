"""Small helpers shared by the HTML views."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import Response
from flask import render_template
from flask import send_file
from flask_wtf import FlaskForm
from wtforms import Form as WTForm

from app.exceptions import DomainError
from app.models import StoredFile
from app.services.submissions import storage


def add_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Show a service's error next to its field, or above the form when it names none."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def forms_with_errors(context: dict[str, Any]) -> list[WTForm]:
    """The WTForms forms among a page's values that have errors to show."""
    return [
        value
        for value in context.values()
        if isinstance(value, WTForm) and (value.errors or value.form_errors)
    ]


def render_form_page(template: str, **context: Any) -> tuple[str, int]:
    """Render a page with its WTForms forms, each passed as ``<purpose>_form`` (in templates
    ``form`` is the Form model): 422 when one of them has errors, else 200."""
    status = 422 if forms_with_errors(context) else 200
    return render_template(template, **context), status


def file_download(stored: StoredFile) -> Response:
    """An uploaded file, always as a download: a respondent's file never runs in our origin."""
    response = send_file(
        BytesIO(storage.read_file(stored)),
        mimetype=stored.content_type,
        as_attachment=True,
        download_name=stored.filename,
        max_age=0,
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
