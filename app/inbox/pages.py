"""What the inbox's views share: loading objects for the user, the filter in the URL, links."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask import request
from flask import url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app.models import Form
from app.models import Submission
from app.request_checks import parse_id
from app.services import inbox
from app.services.forms import Action
from app.services.forms import get_form_for
from app.services.inbox import Column
from app.services.inbox import InboxFilter

DEFAULT_COLUMNS = 4
MAX_SELECTED = 500
SPAM_REASONS = {
    "honeypot": "Honeypot filled in",
    "rate": "Too many from one address",
    "rule": "Matched a spam rule",
    "score": "Spam score over the form's threshold",
    "manual": "Marked as spam",
}
ACTION_MESSAGES = {
    "read": "Marked {count} submission{s} as read.",
    "unread": "Marked {count} submission{s} as unread.",
    "star": "Starred {count} submission{s}.",
    "unstar": "Removed the star from {count} submission{s}.",
    "spam": "Moved {count} submission{s} to spam.",
    "not_spam": "Moved {count} submission{s} to the inbox.",
    "trash": "Moved {count} submission{s} to the trash.",
    "restore": "Restored {count} submission{s} from the trash.",
    "tag": "Tagged {count} submission{s}.",
}


def load_form(form_id: int, action: Action) -> Form:
    return get_form_for(current_user, form_id, action)


def load_submission(form_id: int, submission_id: int, action: Action) -> tuple[Form, Submission]:
    submission = inbox.get_submission_for(current_user, form_id, submission_id, action)
    return load_form(form_id, action), submission


def current_filter(columns: list[Column], source: MultiDict | None = None) -> InboxFilter:
    """The filter in the query string (or, for a POST, in the form's hidden fields)."""
    return InboxFilter.from_args(request.args if source is None else source, columns)


def selected_keys(source: MultiDict | None = None) -> list[str]:
    source = request.args if source is None else source
    return [key for key in source.getlist("cols") if key]


def chosen_columns(columns: list[Column]) -> list[Column]:
    """The columns the user ticked, in the form's order; the first few by default."""
    wanted = set(selected_keys())
    if not wanted:
        return columns[:DEFAULT_COLUMNS]
    return [column for column in columns if column.key in wanted]


def view_args(chosen: InboxFilter, source: MultiDict | None = None) -> dict:
    args = chosen.to_args()
    keys = selected_keys(source)
    if keys:
        args["cols"] = keys
    return args


def folder_args() -> dict[str, dict]:
    """Links to each folder: its filters start afresh, the chosen columns stay."""
    keys = selected_keys()
    links = {}
    for folder in inbox.FOLDERS:
        args: dict = {"folder": folder} if folder != "inbox" else {}
        if keys:
            args["cols"] = keys
        links[folder] = args
    links["in_progress"] = {"cols": keys} if keys else {}
    return links


def list_url(form: Form, chosen: InboxFilter, **extra) -> str:
    source = request.form if request.method == "POST" else None
    return url_for("inbox.list_submissions", form_id=form.id, **view_args(chosen, source), **extra)


def submission_url(form: Form, submission_id: int, chosen: InboxFilter) -> str:
    source = request.form if request.method == "POST" else None
    return url_for(
        "inbox.show_submission",
        form_id=form.id,
        submission_id=submission_id,
        **view_args(chosen, source),
    )


def local_time(moment: datetime | None) -> str:
    """A stored UTC time in the user's zone, as people read it."""
    if moment is None:
        return ""
    return moment.astimezone(inbox.zone_of(current_user)).strftime("%Y-%m-%d %H:%M")


def bulk_batches(form: Form, chosen: InboxFilter) -> Iterable[list[int]] | None:
    """The ids a bulk action applies to: every match of the filter, or the ticked rows."""
    if request.form.get("scope") == "matching":
        return inbox.matching_ids(form, chosen, inbox.zone_of(current_user))
    ids = [number for number in map(parse_id, request.form.getlist("ids")) if number]
    return [ids[:MAX_SELECTED]] if ids else None
