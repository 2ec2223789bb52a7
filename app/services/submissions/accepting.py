"""Accepting a submission: the one path every page, endpoint post and API call goes through."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import NoReturn
from urllib.parse import urljoin
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from app.exceptions import AlreadyResponded
from app.exceptions import FormUnavailable
from app.exceptions import OriginNotAllowed
from app.exceptions import SubmissionInvalid
from app.extensions import db
from app.fields import FieldError
from app.fields import UploadedFile
from app.fields import answers_from
from app.fields import collect_errors
from app.models import Availability
from app.models import Form
from app.models import SpamReason
from app.models import Submission
from app.models.types import utcnow
from app.services.forms.settings import normalize_origin
from app.services.submissions import rows as submission_rows
from app.services.submissions import storage
from app.services.submissions.posted import HONEYPOT_FIELD
from app.services.submissions.posted import SubmissionContext
from app.services.submissions.posted import endpoint_answers
from app.services.submissions.posted import endpoint_field_names
from app.services.submissions.posted import note_stored_endpoint_keys
from app.services.submissions.posted import remember_endpoint_keys
from app.services.submissions.posted import special_fields
from app.services.submissions.posted import stored_endpoint_keys
from app.services.submissions.versions import bind_form
from app.services.submissions.versions import version_form_class
from app.services.submissions.versions import version_specs
from app.signals import needs_transaction
from app.signals import submission_accepted

# An Idempotency-Key longer than this is cut (the public page) or refused (the API).
MAX_IDEMPOTENCY_KEY_CHARS = 200


@dataclass
class Accepted:
    submission_id: int
    next_url: str | None
    duplicate: bool = False
    spam: bool = False
    meta: dict[str, Any] = field(default_factory=dict)


def check_can_submit(form: Form, context: SubmissionContext) -> None:
    """Raise unless ``form`` takes submissions from where this one comes from."""
    check_origin(form, context)
    availability = form.availability()
    if availability != Availability.OPEN:
        raise FormUnavailable(availability)
    if form.one_response_per_browser and context.already_responded:
        raise AlreadyResponded("This form takes one response per person, and we have yours.")


def check_origin(form: Form, context: SubmissionContext) -> None:
    if not context.same_site and context.origin and not form.allows_origin(context.origin):
        raise OriginNotAllowed(
            f"This form does not accept submissions from {context.origin}. An editor can add "
            "the site to the form's allowed websites."
        )


def submit(
    form: Form,
    data: MultiDict,
    files: MultiDict,
    context: SubmissionContext,
) -> Accepted:
    """Validate and store one submission, or raise a DomainError saying why not."""
    check_origin(form, context)
    alone = _stands_alone(form, data, files)
    # A repeat of a stored submission (double click, client retry) gets the first answer again,
    # even if that submission filled the form or closed it for this browser.
    existing = _find_duplicate(form, context.idempotency_key, alone=alone)
    if existing is not None:
        return Accepted(existing.id, _next_url(form, existing.meta, context), duplicate=True)
    check_can_submit(form, context)
    if data.get(HONEYPOT_FIELD, "").strip():
        answers, uploads = endpoint_answers(data, files, strict=False)
        meta = special_fields(data, context)
        return _store(form, None, answers, uploads, meta, context, spam=SpamReason.HONEYPOT)
    if form.is_endpoint:
        answers, uploads = endpoint_answers(data, files, strict=True)
        meta = special_fields(data, context)
        return _store(form, None, answers, uploads, meta, context, alone=alone)
    version_id = _published_version_id(form)
    answers, uploads = _validated_answers(version_id, data, files)
    checked = _checked_emails(version_id, answers)
    meta = special_fields(data, context, checked)
    return _store(form, version_id, answers, uploads, meta, context, alone=alone)


def _checked_emails(version_id: int, answers: dict[str, Any]) -> frozenset[str]:
    """The answers to the version's email questions, which validation has just checked."""
    return frozenset(
        answers[spec.key]
        for spec in version_specs(version_id)
        if spec.type == "email" and answers.get(spec.key)
    )


def _stands_alone(form: Form, data: MultiDict, files: MultiDict) -> bool:
    """Whether the submission will write nothing but its row and count, and the request has
    written nothing before it, so that it can be stored in a transaction of its own
    (submission_rows). Asked first, so that the duplicate lookup can read outside the session
    too: a read in the session would begin its transaction."""
    if any(getattr(upload, "filename", None) for _key, upload in files.items(multi=True)):
        return False
    if form.is_endpoint and not endpoint_field_names(data) <= stored_endpoint_keys(form.id):
        return False  # a new field name to record with it
    if needs_transaction(form):
        return False
    return not db.session().in_transaction()  # asked last: a receiver may have read


def _find_duplicate(form: Form, key: str | None, *, alone: bool = False) -> Row | None:
    """The id and meta of the form's submission stored with this idempotency key."""
    if not key:
        return None
    if alone:
        return submission_rows.find_alone(form.id, key)
    query = select(Submission.id, Submission.meta).where(
        Submission.form_id == form.id, Submission.idempotency_key == key
    )
    return db.session.execute(query).first()


def _published_version_id(form: Form) -> int:
    if form.published_version_id is None or not version_specs(form.published_version_id):
        raise FormUnavailable(Availability.DRAFT)
    return form.published_version_id


def _validated_answers(
    version_id: int, data: MultiDict, files: MultiDict
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    specs = version_specs(version_id)
    bound = bind_form(version_form_class(version_id), data, files)
    if not bound.validate():
        raise SubmissionInvalid(collect_errors(bound), bound)
    answers = answers_from(bound, specs)
    if not any(value not in (None, "", [], False) for value in answers.values()) and not files:
        raise SubmissionInvalid([FieldError("", "EMPTY", "The form was sent empty.")], bound)
    uploads = {key: value for key, value in answers.items() if isinstance(value, UploadedFile)}
    return answers, uploads


def _store(
    form: Form,
    version_id: int | None,
    answers: dict[str, Any],
    uploads: dict[str, UploadedFile],
    meta: dict[str, Any],
    context: SubmissionContext,
    *,
    spam: SpamReason | None = None,
    alone: bool = False,
) -> Accepted:
    now = utcnow()
    stored_answers = dict(answers)
    for key, upload in uploads.items():
        stored_answers[key] = storage.save_upload(form.id, key, upload)
    values = {
        "form_id": form.id,
        "version_id": version_id,
        "answers": stored_answers,
        "meta": meta,
        "created_at": now,
        "idempotency_key": context.idempotency_key,
        "is_spam": spam is not None,
        "spam_reason": spam.value if spam else None,
        "is_read": False,
        "is_starred": False,
        "deleted_at": None,
        "summarized": False,  # counted in the summary by the next batch (rollups.catch_up)
    }
    # Alone only if nothing was read in the session since the duplicate lookup, either.
    stored_alone = spam is None and alone and not db.session().in_transaction()
    try:
        if spam is not None:
            submission_id = submission_rows.insert(db.session.connection(), values)
        elif stored_alone:
            submission_id = submission_rows.store_counted_alone(values)  # committed
        else:
            submission_id = submission_rows.insert_counted(db.session.connection(), values)
        if submission_id is None:  # the form's row refused it: full, closed or expired
            _refuse(form, now)
        submission = Submission(id=submission_id, **values)
        storage.attach_files(
            [ref["file_id"] for ref in _references(stored_answers, uploads)], submission.id
        )
        if spam is None:
            submission_accepted.send(form, submission=submission)
        if form.is_endpoint and not stored_alone:  # alone, every name is stored already
            remember_endpoint_keys(form.id, [*answers, *uploads], now)
        # Alone, the session has begun nothing unless a receiver read or added a row.
        if not stored_alone or db.session().in_transaction():
            db.session.commit()
        if form.is_endpoint:
            note_stored_endpoint_keys(form.id, [*answers, *uploads])
    except IntegrityError:
        # Another request with the same idempotency key won the race: answer as it did.
        db.session.rollback()
        duplicate = _find_duplicate(form, context.idempotency_key)
        if duplicate is None:
            raise
        return Accepted(duplicate.id, _next_url(form, duplicate.meta, context), duplicate=True)
    except FormUnavailable:
        db.session.rollback()
        raise
    return Accepted(submission.id, _next_url(form, meta, context), spam=spam is not None, meta=meta)


def _references(answers: dict[str, Any], uploads: dict[str, UploadedFile]) -> list[dict[str, Any]]:
    return [answers[key] for key in uploads]


def count_submission(form: Form, now) -> None:
    """Count a submission that was stored uncounted (spam) and now counts, in the session's
    transaction; raise FormUnavailable when the form is full."""
    if not submission_rows.count_on_form(db.session.connection(), form.id, now, check_open=False):
        _refuse(form, now)


def _refuse(form: Form, now) -> NoReturn:
    """Say why the form's row refused a submission: read it as it is now (``form`` may be a
    cached, detached copy of a moment ago)."""
    current = db.session.get(Form, form.id, populate_existing=True)
    availability = current.availability(now) if current else Availability.DELETED
    raise FormUnavailable(Availability.FULL if availability == Availability.OPEN else availability)


def _next_url(form: Form, meta: dict[str, Any], context: SubmissionContext) -> str | None:
    """Where to send the person: a ``_next`` the form allows, else the form's redirect URL."""
    return resolve_next(form, meta.get("next"), context.referrer) or form.redirect_url


def resolve_next(form: Form, next_value: str | None, referrer: str | None) -> str | None:
    """``_next`` made absolute (a bare path resolves against the referring page), if it leads
    to this site or one of the form's allowed origins; None for anything else."""
    if not next_value:
        return None
    target = urljoin(referrer, next_value) if referrer else next_value
    parts = urlsplit(target)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    origin = normalize_origin(f"{parts.scheme}://{parts.netloc}")
    own = normalize_origin(current_app.config["BASE_URL"])
    if origin != own and origin not in form.allowed_origins:
        return None
    return target
