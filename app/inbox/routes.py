from io import BytesIO

from flask import abort
from flask import send_file
from flask_login import current_user

from app.inbox import bp
from app.services import forms
from app.services import storage
from app.services.errors import NotAllowed
from app.services.errors import NotFound


@bp.get("/forms/<int:form_id>/files/<file_id>")
def download_file(form_id: int, file_id: str):
    """An uploaded file, always as a download: a respondent's file never runs in our origin."""
    try:
        form = forms.get_form_for(current_user, form_id, "read")
        stored = storage.get_file(form.id, file_id)
    except NotFound:
        abort(404)
    except NotAllowed:
        abort(403)
    response = send_file(
        BytesIO(storage.read_file(stored)),
        mimetype=stored.content_type,
        as_attachment=True,
        download_name=stored.filename,
        max_age=0,
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
