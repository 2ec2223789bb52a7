"""The In progress folder of a form: its partial responses, read-only, and their export."""

from __future__ import annotations

from flask import Response
from flask import abort
from flask import render_template
from flask import request
from flask import stream_with_context
from flask import url_for
from flask_login import current_user

from app.auth.signing_in import fresh_sign_in_required
from app.inbox import bp
from app.inbox.pages import chosen_columns
from app.inbox.pages import folder_args
from app.inbox.pages import load_form
from app.inbox.pages import selected_keys
from app.models.types import utcnow
from app.services import exports
from app.services import inbox
from app.services.exports import partials
from app.services.inbox import progress


@bp.get("/forms/<int:form_id>/in-progress")
def list_in_progress(form_id: int):
    form = load_form(form_id, "read")
    versions = inbox.versions_of(form)
    columns = inbox.columns_for(form, versions)
    shown = chosen_columns(columns)
    page = progress.list_in_progress(
        form,
        after=inbox.Cursor.parse(request.args.get("after")),
        before=inbox.Cursor.parse(request.args.get("before")),
    )
    rows = [
        {
            "partial": row,
            "reached": progress.reached(row),
            "answered": progress.answered_count(row),
            "cells": [inbox.cell_text(versions, row, column) for column in shown],
        }
        for row in page.rows
    ]
    return render_template(
        "inbox/in_progress.html",
        form=form,
        columns=columns,
        shown=shown,
        page=page,
        rows=rows,
        column_args={"cols": selected_keys()} if selected_keys() else {},
        folder_args=folder_args(),
    )


@bp.get("/forms/<int:form_id>/in-progress/export")
@fresh_sign_in_required()
def export_in_progress(form_id: int):
    form = load_form(form_id, "read")
    export_format = request.args.get("format", "csv")
    if export_format not in exports.FORMATS:
        abort(404)
    zone = inbox.zone_of(current_user)
    prefix = url_for("inbox.download_file", form_id=form.id, file_id="-", _external=True)[:-1]
    plan = exports.plan_export(form, zone, prefix)
    total = progress.count_in_progress(form)
    exports.record_export(form, export_format, rows=total, partial=True)
    body = partials.stream_partials(plan, export_format, bom=request.args.get("bom") == "1")
    content_type, _extension = exports.FORMATS[export_format]
    filename = partials.partials_filename(form, export_format, utcnow().astimezone(zone))
    response = Response(stream_with_context(body), content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Export-Rows"] = str(total)
    return response
