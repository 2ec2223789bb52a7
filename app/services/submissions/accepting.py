"""Accepting a submission: the one path every page, endpoint post and API call goes through."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
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
from app.exceptions import DomainError
from app.exceptions import FormUnavailable
from app.exceptions import IdempotencyKeyInFlight
from app.exceptions import OriginNotAllowed
from app.exceptions import SubmissionInvalid
from app.extensions import db
from app.fields import FieldError
from app.fields import UploadedFile
from app.fields import answers_from
from app.fields import collect_errors
from app.fields.upload import is_file_reference
from app.models import Availability
from app.models import Form
from app.models import SpamReason
from app.models import Submission
from app.models.types import utcnow
from app.ops.counters import count
from app.services.forms.settings import normalize_origin
from app.services.spam import Signal
from app.services.spam import SpamVerdict
from app.services.spam import answer_texts
from app.services.spam import content_signals
from app.services.spam import judge_spam
from app.services.spam import request_signals_of
from app.services.submissions import idempotency
from app.services.submissions import rows as submission_rows
from app.services.submissions import storage
from app.services.submissions.judging import judge
from app.services.submissions.posted import HONEYPOT_FIELD
from app.services.submissions.posted import SubmissionContext
from app.services.submissions.posted import endpoint_answers
from app.services.submissions.posted import endpoint_field_names
from app.services.submissions.posted import note_stored_endpoint_keys
from app.services.submissions.posted import remember_endpoint_keys
from app.services.submissions.posted import special_fields
from app.services.submissions.posted import stored_endpoint_keys
from app.services.submissions.versions import bind_form
from app.services.submissions.versions import version_flow
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
    try:
        return _submit(form, data, files, context)
    except DomainError:
        count("submissions", "rejected")
        raise


def _submit(form: Form, data: MultiDict, files: MultiDict, context: SubmissionContext) -> Accepted:
    check_origin(form, context)
    may_stand_alone = _stands_alone(form, data, files)
    # A repeat of a stored submission (double click, client retry) gets the first answer again,
    # even if that submission filled the form or closed it for this browser.
    existing = _find_duplicate(form, context.idempotency_key, alone=may_stand_alone)
    if existing is not None:
        return _repeat(form, existing, context)
    try:
        with idempotency.claimed(form.id, context):
            return _submit_new(form, data, files, context, may_stand_alone)
    except IdempotencyKeyInFlight:
        # The request that held the key may have finished since the lookup above.
        finished = _find_duplicate(form, context.idempotency_key, alone=may_stand_alone)
        if finished is None:
            raise
        return _repeat(form, finished, context)


def _submit_new(
    form: Form, data: MultiDict, files: MultiDict, context: SubmissionContext, may_stand_alone: bool
) -> Accepted:
    check_can_submit(form, context)
    if data.get(HONEYPOT_FIELD, "").strip():
        # A built form's spam too keeps only the files a static-site form would.
        answers, uploads = endpoint_answers(data, files, form.endpoint_file_kinds, strict=False)
        meta = special_fields(data, context)
        spam = judge_spam(request_signals_of(context.signals), form.spam_threshold, honeypot=True)
        return _store(form, None, answers, uploads, meta, context, spam=spam)
    if form.is_endpoint:
        answers, uploads = endpoint_answers(data, files, form.endpoint_file_kinds, strict=True)
        meta = special_fields(data, context)
        spam = assess_spam(form, answers, context, [form.title, *answers])
        return _store(
            form, None, answers, uploads, meta, context, spam=spam, may_stand_alone=may_stand_alone
        )
    version_id = _published_version_id(form)
    answers, uploads, path = _validated_answers(version_id, data, files)
    checked = _checked_emails(version_id, answers)
    meta = special_fields(data, context, checked)
    if path is not None:
        meta["path"] = path
    spam = assess_spam(form, answers, context, form_wording(form, version_id))
    return _store(
        form,
        version_id,
        answers,
        uploads,
        meta,
        context,
        spam=spam,
        may_stand_alone=may_stand_alone,
    )


def form_wording(form: Form, version_id: int) -> list[str]:
    """The form's own text, whose scripts its answers are expected in."""
    return [form.title, *(spec.label for spec in version_specs(version_id))]


def assess_spam(
    form: Form, answers: dict[str, Any], context: SubmissionContext, wording: list[str]
) -> SpamVerdict | None:
    """The post's spam score against the form's threshold; None for a post that is not
    scored (the API's, sent with an editor's token)."""
    if context.signals is None:
        return None
    signals: list[Signal] = request_signals_of(context.signals)
    signals += content_signals(answer_texts(answers), " ".join(wording))
    return judge_spam(signals, form.spam_threshold)


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
    """The id, meta and request fingerprint of the form's submission stored with this
    idempotency key."""
    if not key:
        return None
    if alone:
        return submission_rows.find_alone(form.id, key)
    query = select(Submission.id, Submission.meta, Submission.idempotency_fingerprint).where(
        Submission.form_id == form.id, Submission.idempotency_key == key
    )
    return db.session.execute(query).first()


def _repeat(form: Form, stored: Row, context: SubmissionContext) -> Accepted:
    """The first answer again for a repeat of the request stored under the key; a request
    that only shares its key is refused (IdempotencyKeyReused)."""
    idempotency.check_same_request(stored.idempotency_fingerprint, context)
    return Accepted(stored.id, _next_url(form, stored.meta, context), duplicate=True)


def _published_version_id(form: Form) -> int:
    if form.published_version_id is None or not version_specs(form.published_version_id):
        raise FormUnavailable(Availability.DRAFT)
    return form.published_version_id


def _validated_answers(
    version_id: int, data: MultiDict, files: MultiDict
) -> tuple[dict[str, Any], dict[str, UploadedFile], list[str] | None]:
    """The answers that count, the files among them, and the pages they led through (None
    for a form of one page)."""
    specs = version_specs(version_id)
    bound = bind_form(version_form_class(version_id), data, files)
    flow = version_flow(version_id)
    path = None
    if flow.has_logic:
        bound.validate()
        judged = judge(bound, specs, flow)
        if judged.errors:
            raise SubmissionInvalid(judged.errors, bound)
        answers = judged.answers
        path = list(judged.walk.path) if flow.is_multi_page else None
    else:
        if not bound.validate():
            raise SubmissionInvalid(collect_errors(bound), bound)
        answers = answers_from(bound, specs)
    if not any(value not in (None, "", [], False) for value in answers.values()) and not files:
        raise SubmissionInvalid([FieldError("", "EMPTY", "The form was sent empty.")], bound)
    uploads = {key: value for key, value in answers.items() if isinstance(value, UploadedFile)}
    return answers, uploads, path


class StoragePath(enum.Enum):
    """How a submission's row is written, chosen once before anything is stored."""

    SPAM = enum.auto()  # uncounted and told to no one, in the request's transaction
    OWN_TRANSACTION = enum.auto()  # counted and committed alone (rows.store_counted_alone)
    WITH_DELIVERIES = enum.auto()  # counted in the request's transaction, with what receivers add


def _choose_path(spam: SpamVerdict | None, may_stand_alone: bool) -> StoragePath:
    if spam is not None and spam.is_spam:
        return StoragePath.SPAM
    # Alone only if nothing was read in the session since the duplicate lookup, either.
    if may_stand_alone and not db.session().in_transaction():
        return StoragePath.OWN_TRANSACTION
    return StoragePath.WITH_DELIVERIES


def _store(
    form: Form,
    version_id: int | None,
    answers: dict[str, Any],
    uploads: dict[str, UploadedFile],
    meta: dict[str, Any],
    context: SubmissionContext,
    *,
    spam: SpamVerdict | None = None,
    may_stand_alone: bool = False,
) -> Accepted:
    now = utcnow()
    path = _choose_path(spam, may_stand_alone)
    stored_answers = _save_uploads(form, answers, uploads)
    values = _row_values(form, version_id, stored_answers, meta, context, spam, now)
    field_names = [*answers, *uploads]
    try:
        submission = _insert_row(form, path, values, now)
        storage.attach_files(_file_ids(stored_answers), submission.id)
        if path is not StoragePath.SPAM:
            submission_accepted.send(form, submission=submission)
        _finish(form, path, field_names, now)
    except IntegrityError:
        twin = _earlier_twin(form, context)
        if twin is None:
            raise
        return twin
    except FormUnavailable:
        db.session.rollback()
        raise
    is_spam = path is StoragePath.SPAM
    count("submissions", "spam" if is_spam else "accepted")
    return Accepted(submission.id, _next_url(form, meta, context), spam=is_spam, meta=meta)


def _file_ids(stored_answers: dict[str, Any]) -> list[str]:
    """The stored files the answers refer to: uploaded with this post, or on an earlier page."""
    return [value["file_id"] for value in stored_answers.values() if is_file_reference(value)]


def find_accepted(form: Form, context: SubmissionContext) -> Accepted | None:
    """The answer given to an earlier post with the same idempotency key, if one was stored."""
    existing = _find_duplicate(form, context.idempotency_key)
    if existing is None:
        return None
    return _repeat(form, existing, context)


def store_answers(
    form: Form,
    version_id: int,
    answers: dict[str, Any],
    meta: dict[str, Any],
    context: SubmissionContext,
    *,
    spam: SpamVerdict | None = None,
) -> Accepted:
    """Store answers judged already, page by page (files saved as they came): the final
    submit of a form with pages. A repeat of the same final post gets the first answer: it
    finds no partial any more (the caller looks the first answer up then), or, sent while the
    first was being stored, it meets the first's idempotency key in the unique constraint, as
    the single-page post's race does (_earlier_twin), with no lookup on the way."""
    return _store(form, version_id, answers, {}, meta, context, spam=spam)


def _save_uploads(
    form: Form, answers: dict[str, Any], uploads: dict[str, UploadedFile]
) -> dict[str, Any]:
    """The answers as stored: each uploaded file saved, and replaced by its reference."""
    stored_answers = dict(answers)
    for key, upload in uploads.items():
        stored_answers[key] = storage.save_upload(form.id, key, upload)
    return stored_answers


def _row_values(
    form: Form,
    version_id: int | None,
    stored_answers: dict[str, Any],
    meta: dict[str, Any],
    context: SubmissionContext,
    spam: SpamVerdict | None,
    now: datetime,
) -> dict[str, Any]:
    is_spam = spam is not None and spam.is_spam
    return {
        "form_id": form.id,
        "version_id": version_id,
        "answers": stored_answers,
        "meta": meta,
        "created_at": now,
        "idempotency_key": context.idempotency_key,
        "idempotency_fingerprint": context.fingerprint if context.idempotency_key else None,
        "is_spam": is_spam,
        "spam_reason": _legacy_reason(spam) if is_spam else None,
        "spam_score": spam.score if spam else None,
        "spam_reasons": spam.reasons if spam else None,
        "is_read": False,
        "is_starred": False,
        "deleted_at": None,
        "summarized": False,  # counted in the summary by the next batch (rollups.catch_up)
    }


def _legacy_reason(spam: SpamVerdict) -> str:
    """The one word ``spam_reason`` has held since before scores."""
    if Signal.HONEYPOT.value in spam.signals:
        return SpamReason.HONEYPOT.value
    return SpamReason.SCORE.value


def _insert_row(form: Form, path: StoragePath, values: dict[str, Any], now: datetime) -> Submission:
    """Write the row (and count it on the form's row, unless spam); FormUnavailable when the
    form's row refuses it: full, closed or expired."""
    if path is StoragePath.SPAM:
        submission_id = submission_rows.insert(db.session.connection(), values)
    elif path is StoragePath.OWN_TRANSACTION:
        submission_id = submission_rows.store_counted_alone(values)  # committed
    else:
        submission_id = submission_rows.insert_counted(db.session.connection(), values)
    if submission_id is None:
        _refuse(form, now)
    return Submission(id=submission_id, **values)


def _finish(form: Form, path: StoragePath, field_names: list[str], now: datetime) -> None:
    """Record a static-site form's new field names, and commit what the session holds."""
    alone = path is StoragePath.OWN_TRANSACTION
    if form.is_endpoint and not alone:  # alone, every name is stored already
        remember_endpoint_keys(form.id, field_names, now)
    # Alone, the session has begun nothing unless a receiver read or added a row.
    if not alone or db.session().in_transaction():
        db.session.commit()
    if form.is_endpoint:
        note_stored_endpoint_keys(form.id, field_names)


def _earlier_twin(form: Form, context: SubmissionContext) -> Accepted | None:
    """The answer given to another request with the same idempotency key, which won the race
    to store it; None if no such submission explains the refusal."""
    db.session.rollback()
    duplicate = _find_duplicate(form, context.idempotency_key)
    if duplicate is None:
        return None
    return _repeat(form, duplicate, context)


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
    next_url = resolve_next(form, meta.get("next"), context.referrer, context.origin)
    return next_url or form.redirect_url


def resolve_next(
    form: Form, next_value: str | None, referrer: str | None, origin: str | None = None
) -> str | None:
    """``_next`` made absolute (a bare path resolves against the referring page), if it leads
    to this site, to one of the form's allowed origins, or back to the website that posted
    (``origin``, else the referrer's) when the form takes its posts; None for anything else."""
    if not next_value:
        return None
    target = urljoin(referrer, next_value) if referrer else next_value
    parts = urlsplit(target)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    target_origin = normalize_origin(f"{parts.scheme}://{parts.netloc}")
    allowed = {normalize_origin(current_app.config["BASE_URL"]), *form.allowed_origins}
    poster = _posting_origin(origin, referrer)
    if poster and form.allows_origin(poster):
        allowed.add(poster)
    return target if target_origin in allowed else None


def _posting_origin(origin: str | None, referrer: str | None) -> str | None:
    if origin and origin != "null":
        return normalize_origin(origin)
    if referrer:
        parts = urlsplit(referrer)
        if parts.scheme in {"http", "https"} and parts.hostname:
            return normalize_origin(f"{parts.scheme}://{parts.netloc}")
    return None
