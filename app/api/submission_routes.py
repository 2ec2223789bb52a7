"""Submissions: a form's list with the inbox's filters and cursor pages, new ones through the
public page's validation, and one submission read, flagged or trashed."""

from __future__ import annotations

from flask import request
from flask import url_for
from marshmallow import RAISE
from werkzeug.datastructures import MultiDict

from app.api import bp
from app.api import present
from app.api.auth import api_user
from app.api.errors import ApiError
from app.api.openapi import errors
from app.api.paths import BIG_ID
from app.api.paths import ID
from app.api.schemas import SubmissionCreateSchema
from app.api.schemas import SubmissionListArgsSchema
from app.api.schemas import SubmissionPageSchema
from app.api.schemas import SubmissionSchema
from app.api.schemas import SubmissionUpdateSchema
from app.models import Form
from app.models import Submission
from app.services import forms
from app.services import inbox
from app.services.inbox import triage
from app.services.submissions import MAX_IDEMPOTENCY_KEY_CHARS
from app.services.submissions import SubmissionContext
from app.services.submissions import fields_from_json
from app.services.submissions import request_fingerprint
from app.services.submissions import submit

IDEMPOTENCY_HEADER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": f"Up to {MAX_IDEMPOTENCY_KEY_CHARS} printable ASCII characters; a retry with "
    "the same key and the same answers is stored once and answers 200 with the first "
    "submission. The same key with other answers is refused (422, idempotency_key_reused), "
    "and while the first request is still being handled a retry gets 409 "
    "(idempotency_key_in_flight).",
    "schema": {
        "type": "string",
        "maxLength": MAX_IDEMPOTENCY_KEY_CHARS,
        "pattern": "^[ -~]*$",
    },
}


@bp.route(f"/forms/<{ID}:form_id>/submissions", methods=["GET"], tags=["Submissions"])
@bp.arguments(SubmissionListArgsSchema, location="query", error_status_code=400, unknown=RAISE)
@bp.response(200, SubmissionPageSchema)
@errors(bp, 404)
def list_submissions(args: dict, form_id: int):
    """List a form's submissions

    Newest first, in pages. The inbox's filters apply: `folder`, `q`, `from`, `to`, `read`,
    `starred`, `tag` (repeat it for any of several tags), and for each choice question
    `f.<key>=<value>`, which keeps submissions whose answer to `<key>` is (or includes)
    `<value>`; repeat it to accept any of several values.
    Pages are found by cursor, so submissions arriving meanwhile never shift or repeat what
    comes next. Any other parameter is refused (400), so a misspelt filter never passes for
    no filter.
    """
    user = api_user()
    form = forms.get_form_for(user, form_id, "read")
    chosen = _inbox_filter(args, inbox.columns_for(form))
    after = _cursor(args.get("cursor"))
    page = inbox.list_page(form, chosen, inbox.zone_of(user), after=after, size=args["limit"])
    versions = present.versions_by_id(form)
    return {
        "data": [present.submission_detail(form, row, versions) for row in page.rows],
        "next_cursor": str(page.older) if page.older else None,
    }


def _inbox_filter(args: dict, columns: list[inbox.Column]) -> inbox.InboxFilter:
    values = _filter_args(args)
    unknown = inbox.InboxFilter.unknown_choice_filters(values, columns)
    if unknown:
        message = "Not a choice question of this form; f.<key> filters need one."
        raise ApiError(400, "Unknown filter.", details={name: [message] for name in unknown})
    return inbox.InboxFilter.from_args(values, columns)


def _filter_args(args: dict) -> MultiDict:
    """The checked query arguments in the inbox's own terms, with its choice filters."""
    values = MultiDict(
        {
            "folder": args["folder"],
            "q": args.get("q", ""),
            "from": args["since"].isoformat() if "since" in args else "",
            "to": args["until"].isoformat() if "until" in args else "",
            "read": args.get("read", ""),
            "starred": "1" if args.get("starred") else "",
        }
    )
    values.setlist("tag", args.get("tag", []))
    for name, chosen in request.args.lists():
        if name.startswith(inbox.CHOICE_PREFIX):
            values.setlist(name, chosen)
    return values


def _cursor(value: str | None) -> inbox.Cursor | None:
    if value is None:
        return None
    cursor = inbox.Cursor.parse(value)
    if cursor is None:
        details = {"cursor": ["Pass the next_cursor of a page, as it was given."]}
        raise ApiError(400, "The cursor is not one this API gave.", details=details)
    return cursor


@bp.route(f"/forms/<{ID}:form_id>/submissions", methods=["POST"], tags=["Submissions"])
@bp.arguments(SubmissionCreateSchema)
@bp.response(201, SubmissionSchema)
@bp.alt_response(
    200, schema=SubmissionSchema, description="A retry: the stored submission.", success=True
)
@bp.doc(parameters=[IDEMPOTENCY_HEADER])
@errors(bp, 404, 409, 422)
def create_submission(body: dict, form_id: int):
    """Submit answers

    Checked exactly as the public page checks them, and sent on to email and webhooks the same
    way. The form must be published and open (409 otherwise). Needs the editor role.
    """
    user = api_user()
    form = forms.get_form_for(user, form_id, "edit")
    key = _idempotency_key()
    answers = fields_from_json(body["answers"])
    context = SubmissionContext(
        user_agent=request.headers.get("User-Agent"),
        idempotency_key=key,
        key_from_client=key is not None,
        fingerprint=request_fingerprint(answers, MultiDict()) if key else None,
    )
    accepted = submit(form, answers, MultiDict(), context)
    form, submission = inbox.find_submission_for(user, accepted.submission_id, "read")
    location = url_for("api.get_submission", submission_id=submission.id)
    status = 200 if accepted.duplicate else 201
    return _detail(form, submission), status, {"Location": location}


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY_CHARS or not (key.isascii() and key.isprintable()):
        raise ApiError(
            400,
            f"Idempotency-Key must be printable ASCII of at most {MAX_IDEMPOTENCY_KEY_CHARS} "
            "characters.",
        )
    return key or None


@bp.route(f"/submissions/<{BIG_ID}:submission_id>", methods=["GET"], tags=["Submissions"])
@bp.response(200, SubmissionSchema)
@errors(bp, 404)
def get_submission(submission_id: int):
    """Read a submission

    Reading it through the API does not mark it read; PATCH `read` does.
    """
    return _detail(*inbox.find_submission_for(api_user(), submission_id, "read"))


@bp.route(f"/submissions/<{BIG_ID}:submission_id>", methods=["PATCH"], tags=["Submissions"])
@bp.arguments(SubmissionUpdateSchema)
@bp.response(200, SubmissionSchema)
@errors(bp, 404, 409, 422)
def update_submission(changes: dict, submission_id: int):
    """Flag, tag or annotate a submission

    Mark it read or unread, starred or not, spam or not, or restore it from the trash;
    replace its tags or its private note (the note is signed with your name and the time).
    Moving it out of spam counts it and sends its emails and webhooks, as for a new one
    (409 when the form already has all the responses it may take). Tags or a note that do
    not fit are refused (422) before anything changes. Needs the editor role.
    """
    user = api_user()
    form, submission = inbox.find_submission_for(user, submission_id, "edit")
    triage.change_flags(form, submission, **changes, user=user)
    return _detail(form, submission)


@bp.route(f"/submissions/<{BIG_ID}:submission_id>", methods=["DELETE"], tags=["Submissions"])
@bp.response(204)
@errors(bp, 404)
def trash_submission(submission_id: int):
    """Move a submission to the trash

    It is deleted for good after 30 days; PATCH `trashed: false` restores it until then.
    """
    _form, submission = inbox.find_submission_for(api_user(), submission_id, "edit")
    triage.trash(submission)


def _detail(form: Form, submission: Submission) -> dict:
    return present.submission_detail(form, submission, present.versions_by_id(form))
