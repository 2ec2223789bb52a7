from flask import render_template
from flask_login import current_user

from app.dashboard import bp
from app.models import Availability
from app.services import forms
from app.services import inbox


@bp.get("/")
def index():
    all_forms = forms.list_forms(current_user)
    unread = inbox.unread_counts()
    return render_template(
        "dashboard/index.html",
        forms=all_forms,
        unread=unread,
        open_count=sum(form.availability() == Availability.OPEN for form in all_forms),
        unread_total=sum(unread.get(form.id, 0) for form in all_forms),
        submission_total=sum(form.submission_count for form in all_forms),
    )
