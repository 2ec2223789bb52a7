from flask import Response
from flask import abort
from flask import render_template
from flask import request
from flask import stream_with_context
from flask_login import current_user

from app.audit import bp
from app.audit.forms import AuditFilterForm
from app.models.types import utcnow
from app.services import audit
from app.services import forms
from app.services.accounts import users

EXPORTS = {
    "csv": ("text/csv; charset=utf-8", audit.stream_csv),
    "jsonl": ("application/x-ndjson", audit.stream_jsonl),
}


def _filter_form() -> AuditFilterForm:
    filter_form = AuditFilterForm(request.args)
    every_form = forms.list_forms(current_user) + forms.list_forms(current_user, trashed=True)
    filter_form.fill_choices(users.list_users(), every_form)
    return filter_form


@bp.get("")
def index():
    filter_form = _filter_form()
    if not filter_form.validate():
        return render_template("audit/index.html", filter_form=filter_form, page=None), 422
    before = request.args.get("before", type=int)
    page = audit.page_of(filter_form.chosen(), before)
    args = {name: value for name, value in request.args.items() if name != "before" and value}
    return render_template("audit/index.html", filter_form=filter_form, page=page, args=args)


@bp.get("/export")
def export():
    filter_form = _filter_form()
    chosen_format = request.args.get("format", "csv")
    if chosen_format not in EXPORTS or not filter_form.validate():
        abort(404)
    content_type, stream = EXPORTS[chosen_format]
    body = stream(filter_form.chosen())
    response = Response(stream_with_context(body), content_type=content_type)
    filename = f"formyard-audit-{utcnow():%Y%m%d-%H%M}.{chosen_format}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
