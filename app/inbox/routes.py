"""The inbox: what came in across forms, a form's submissions, one submission, exports, and the
summary. Every object is loaded for the user and the action (read or edit) on the server."""

from __future__ import annotations

from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import stream_with_context
from flask import url_for
from flask_login import current_user

from app.auth.signing_in import fresh_sign_in_required
from app.exceptions import DomainError
from app.inbox import bp
from app.inbox.pages import ACTION_MESSAGES
from app.inbox.pages import SPAM_REASONS
from app.inbox.pages import bulk_batches
from app.inbox.pages import chosen_columns
from app.inbox.pages import current_filter
from app.inbox.pages import folder_args
from app.inbox.pages import list_url
from app.inbox.pages import load_form
from app.inbox.pages import load_submission
from app.inbox.pages import local_time
from app.inbox.pages import submission_url
from app.inbox.pages import view_args
from app.models import Role
from app.models.types import utcnow
from app.services import exports
from app.services import forms
from app.services import inbox
from app.services.delivery import backlog
from app.services.inbox import progress
from app.services.inbox import summaries
from app.services.inbox import tagging
from app.services.inbox import triage
from app.services.submissions import storage
from app.views import file_download


@bp.context_processor
def inbox_helpers() -> dict:
    # Error pages render here too, before the sign-in check has turned a stranger away.
    can_edit = current_user.is_authenticated and current_user.can(Role.EDITOR)
    return {"local_time": local_time, "can_edit": can_edit}


@bp.get("/inbox")
def index():
    visible = forms.list_forms(current_user)
    unread = inbox.unread_counts()
    newest = inbox.newest_unread(visible)
    by_id = {form.id: form for form in visible}
    return render_template(
        "inbox/index.html",
        forms=visible,
        unread=unread,
        newest=newest,
        forms_by_id=by_id,
        deliveries_stuck_since=backlog.stuck_since(),
    )


@bp.get("/forms/<int:form_id>/submissions")
def list_submissions(form_id: int):
    form = load_form(form_id, "read")
    columns = inbox.columns_for(form)
    chosen = current_filter(columns)
    page = inbox.list_page(
        form,
        chosen,
        inbox.zone_of(current_user),
        after=inbox.Cursor.parse(request.args.get("after")),
        before=inbox.Cursor.parse(request.args.get("before")),
    )
    shown = chosen_columns(columns)
    versions = inbox.versions_of(form) if not form.is_endpoint else {}
    cells = {
        row.id: [inbox.cell_text(versions, row, column) for column in shown] for row in page.rows
    }
    return render_template(
        "inbox/submissions.html",
        form=form,
        columns=columns,
        shown=shown,
        chosen=chosen,
        page=page,
        cells=cells,
        view_args=view_args(chosen),
        folder_args=folder_args(),
        in_progress=progress.shows_in_progress(form),
        spam_reasons=SPAM_REASONS,
        tag_names=tagging.form_tags(form),
        deliveries_stuck_since=backlog.stuck_since(),
    )


@bp.get("/forms/<int:form_id>/submissions/<bigid:submission_id>")
def show_submission(form_id: int, submission_id: int):
    form, submission = load_submission(form_id, submission_id, "read")
    triage.open_submission(submission)
    return _submission_page(form, submission)


def _submission_page(form, submission, errors: dict[str, str] | None = None, status: int = 200):
    chosen = current_filter(inbox.columns_for(form), request.form or None)
    newer, older = inbox.neighbours(form, submission, chosen, inbox.zone_of(current_user))
    page = render_template(
        "inbox/submission.html",
        form=form,
        submission=submission,
        answers=inbox.answers_of(form, submission),
        version=inbox.version_number(form, submission),
        chosen=chosen,
        newer=newer,
        older=older,
        view_args=view_args(chosen, request.form or None),
        spam_reasons=SPAM_REASONS,
        tag_suggestions=tagging.form_tags(form),
        errors=errors or {},
        typed=request.form,
        limits=tagging,
    )
    return page, status


@bp.post("/forms/<int:form_id>/submissions/<int:submission_id>/tags")
def tag_submission(form_id: int, submission_id: int):
    form, submission = load_submission(form_id, submission_id, "edit")
    try:
        tag = tagging.add_tag(form, submission, request.form.get("new_tag", ""))
    except DomainError as error:
        return _submission_page(form, submission, {"tag": error.message}, 422)
    flash(f"Tagged “{tag}”.", "success")
    return redirect(_here(form, submission))


@bp.post("/forms/<int:form_id>/submissions/<int:submission_id>/tags/remove")
def untag_submission(form_id: int, submission_id: int):
    form, submission = load_submission(form_id, submission_id, "edit")
    tagging.remove_tag(submission, request.form.get("remove_tag", ""))
    flash("Removed the tag.", "success")
    return redirect(_here(form, submission))


@bp.post("/forms/<int:form_id>/submissions/<int:submission_id>/note")
def write_note(form_id: int, submission_id: int):
    form, submission = load_submission(form_id, submission_id, "edit")
    try:
        tagging.set_note(submission, request.form.get("note", ""), current_user)
    except DomainError as error:
        return _submission_page(form, submission, {"note": error.message}, 422)
    flash("Saved the note." if submission.note else "Removed the note.", "success")
    return redirect(_here(form, submission))


def _here(form, submission) -> str:
    chosen = current_filter(inbox.columns_for(form), request.form)
    return submission_url(form, submission.id, chosen)


@bp.post("/forms/<int:form_id>/submissions/<bigid:submission_id>/<action>")
def change_submission(form_id: int, submission_id: int, action: str):
    form, submission = load_submission(form_id, submission_id, "edit")
    changes = {
        "star": lambda: triage.set_starred(submission, True),
        "unstar": lambda: triage.set_starred(submission, False),
        "unread": lambda: triage.set_read(submission, False),
        "spam": lambda: triage.mark_spam(form, submission),
        "not_spam": lambda: triage.mark_not_spam(form, submission),
        "trash": lambda: triage.trash(submission),
        "restore": lambda: triage.restore(submission),
    }
    if action not in changes:
        abort(404)
    chosen = current_filter(inbox.columns_for(form), request.form)
    try:
        changes[action]()
    except DomainError as error:
        flash(error.message, "error")
        return redirect(submission_url(form, submission.id, chosen))
    flash(ACTION_MESSAGES[action].format(count=1, s=""), "success")
    if action in ("unread", "trash", "spam", "not_spam", "restore"):
        return redirect(list_url(form, chosen))
    return redirect(submission_url(form, submission.id, chosen))


@bp.post("/forms/<int:form_id>/submissions/bulk")
def bulk_change(form_id: int):
    form = load_form(form_id, "edit")
    chosen = current_filter(inbox.columns_for(form), request.form)
    action = request.form.get("action", "")
    batches = bulk_batches(form, chosen)
    if batches is None:
        flash("Select some submissions first.", "error")
        return redirect(list_url(form, chosen))
    try:
        if action == "tag":
            count = tagging.tag_many(form, request.form.get("new_tag", ""), batches)
        else:
            count = triage.apply_bulk(form, action, batches)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(list_url(form, chosen))
    flash(ACTION_MESSAGES[action].format(count=count, s="" if count == 1 else "s"), "success")
    return redirect(list_url(form, chosen))


@bp.get("/forms/<int:form_id>/submissions/export")
@fresh_sign_in_required()
def export_submissions(form_id: int):
    form = load_form(form_id, "read")
    export_format = request.args.get("format", "csv")
    if export_format not in exports.FORMATS:
        abort(404)
    zone = inbox.zone_of(current_user)
    chosen = current_filter(inbox.columns_for(form))
    prefix = url_for("inbox.download_file", form_id=form.id, file_id="-", _external=True)[:-1]
    plan = exports.plan_export(form, zone, prefix)
    total = inbox.count_matching(form, chosen, zone)
    exports.record_export(form, export_format, rows=total)
    body = exports.stream_export(plan, chosen, export_format, bom=request.args.get("bom") == "1")
    content_type, _extension = exports.FORMATS[export_format]
    filename = exports.export_filename(form, export_format, utcnow().astimezone(zone))
    response = Response(stream_with_context(body), content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Export-Rows"] = str(total)
    return response


@bp.get("/forms/<int:form_id>/summary")
def summary(form_id: int):
    form = load_form(form_id, "read")
    days = request.args.get("days", type=int) or summaries.PERIODS[0]
    result = summaries.summarize(form, days, inbox.zone_of(current_user))
    return render_template(
        "inbox/summary.html", form=form, summary=result, periods=summaries.PERIODS
    )


@bp.get("/forms/<int:form_id>/files/<file_id>")
def download_file(form_id: int, file_id: str):
    """An uploaded file, always as a download: a respondent's file never runs in our origin."""
    form = forms.get_form_for(current_user, form_id, "read")
    return file_download(storage.get_file(form.id, file_id))
