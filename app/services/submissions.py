"""Accepting a submission: the one path every page, endpoint post and API call goes through."""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field
from functools import lru_cache
from typing import Any
from typing import NoReturn
from urllib.parse import urljoin
from urllib.parse import urlsplit

from email_validator import EmailNotValidError
from email_validator import validate_email
from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage
from werkzeug.datastructures import MultiDict
from wtforms import Form as WTForm

from app.extensions import db
from app.fields import ErrorCode
from app.fields import FieldError
from app.fields import FieldSpec
from app.fields import UploadedFile
from app.fields import answers_from
from app.fields import build_form_class
from app.fields import collect_errors
from app.fields.filekinds import FORMATS
from app.fields.filekinds import sniff
from app.fields.upload import safe_filename
from app.models import Availability
from app.models import EndpointKey
from app.models import Form
from app.models import FormVersion
from app.models import SpamReason
from app.models import Submission
from app.models.types import utcnow
from app.services import storage
from app.services import submission_rows
from app.services.errors import DomainError
from app.services.forms import normalize_origin
from app.signals import needs_transaction
from app.signals import submission_accepted

# Formspree's special fields: they steer the submission and are not shown as answers.
SPECIAL_FIELDS = {"_next", "_subject", "_replyto", "_cc", "_gotcha", "_token", "_language"}
HONEYPOT_FIELD = "_gotcha"
MAX_ENDPOINT_KEYS = 100
MAX_ENDPOINT_KEY_CHARS = 100
MAX_ENDPOINT_VALUE_CHARS = 100_000
MAX_ENDPOINT_FILE_BYTES = 10 * 1024 * 1024


class FormUnavailable(DomainError):
    """The form takes no submissions now: draft, closed, expired, full or deleted."""

    def __init__(self, availability: Availability) -> None:
        messages = {
            # The same words for both, so a stranger cannot tell that a draft's address exists.
            Availability.DRAFT: "This form does not exist.",
            Availability.DELETED: "This form does not exist.",
            Availability.CLOSED: "This form is closed and no longer accepts responses.",
            Availability.EXPIRED: "This form has closed; the deadline has passed.",
            Availability.FULL: "This form has received all the responses it can take.",
        }
        gone = availability in {Availability.DRAFT, Availability.DELETED}
        super().__init__(messages[availability], code="FORM_NOT_FOUND" if gone else "INACTIVE")
        self.status = 404 if gone else 403
        self.availability = availability


class AlreadyResponded(DomainError):
    """The form takes one response per browser, and this browser has sent one."""

    status = 409
    code = "ALREADY_RESPONDED"


class OriginNotAllowed(DomainError):
    status = 403
    code = "ORIGIN_NOT_ALLOWED"


class SubmissionInvalid(DomainError):
    """Answers failed validation; ``errors`` carry a code per field, ``form`` the bound form."""

    status = 422

    def __init__(self, errors: list[FieldError], form: WTForm | None = None) -> None:
        summary = "; ".join(f"{error.key}: {error.message}" for error in errors[:5])
        super().__init__(summary or "The submission is not valid.", code="INVALID")
        self.errors = errors
        self.form = form


# An Idempotency-Key longer than this is cut (the public page) or refused (the API).
MAX_IDEMPOTENCY_KEY_CHARS = 200


@dataclass(frozen=True)
class SubmissionContext:
    """What the request tells about the submission, beyond its fields."""

    origin: str | None = None
    referrer: str | None = None
    user_agent: str | None = None
    idempotency_key: str | None = None
    same_site: bool = True
    already_responded: bool = False


@dataclass
class Accepted:
    submission_id: int
    next_url: str | None
    duplicate: bool = False
    spam: bool = False
    meta: dict[str, Any] = field(default_factory=dict)


# What a page can send as one answer; a list of them answers a multiple-choice question.
ANSWER_TYPES = (str, int, float, bool)
NOT_AN_ANSWER = "Give text, a number, true or false, or a list of those."


def fields_from_json(body: dict[str, Any]) -> MultiDict:
    """A JSON object of answers as posted fields: a list gives a repeated name, null an empty
    value, true and false their names, so JSON goes through the same validation as a page.
    An answer a page could not send (an object, a list inside a list) is refused by name."""
    data = MultiDict()
    refused: list[FieldError] = []
    for key, value in body.items():
        items = value if isinstance(value, list) else [value]
        if not all(_is_answer(item) for item in items):
            refused.append(FieldError(str(key), ErrorCode.TYPE_TEXT, NOT_AN_ANSWER))
            continue
        for item in items:
            data.add(str(key), "" if item is None else _json_text(item))
    if refused:
        raise SubmissionInvalid(refused)
    return data


def _is_answer(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)  # NaN and Infinity are no answer a page sends
    return value is None or isinstance(value, ANSWER_TYPES)


def _json_text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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
        answers, uploads = _endpoint_answers(data, files, strict=False)
        meta = _special_fields(data, context)
        return _store(form, None, answers, uploads, meta, context, spam=SpamReason.HONEYPOT)
    if form.is_endpoint:
        answers, uploads = _endpoint_answers(data, files, strict=True)
        meta = _special_fields(data, context)
        return _store(form, None, answers, uploads, meta, context, alone=alone)
    version_id = _published_version_id(form)
    answers, uploads = _validated_answers(version_id, data, files)
    checked = _checked_emails(version_id, answers)
    meta = _special_fields(data, context, checked)
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
    if form.is_endpoint and not _endpoint_field_names(data) <= _stored_endpoint_keys(form.id):
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


@lru_cache(maxsize=1024)
def version_specs(version_id: int, _number: int | None = None) -> tuple[FieldSpec, ...]:
    """A version's fields, parsed once per process: versions never change once published, and
    their ids are never reused (AUTOINCREMENT on SQLite, a sequence on PostgreSQL)."""
    version = db.session.get(FormVersion, version_id)
    return tuple(version.specs) if version else ()


def specs_for(version: FormVersion) -> tuple[FieldSpec, ...]:
    return version_specs(version.id, version.number)


@lru_cache(maxsize=1024)
def version_form_class(version_id: int) -> type[WTForm]:
    """A version's WTForms class, built once per process as its fields are parsed once: a
    class only describes the fields, and every request binds an instance of its own."""
    return build_form_class(version_specs(version_id))


def forget_versions() -> None:
    """Drop the fields and classes kept per version id (tests, whose ids start again)."""
    version_specs.cache_clear()
    version_form_class.cache_clear()


def bind_form(form_class: type[WTForm], data: MultiDict, files: MultiDict) -> WTForm:
    if not files:
        return form_class(formdata=data)  # WTForms only reads it
    formdata = MultiDict(data)
    for key, upload in files.items(multi=True):
        formdata.add(key, upload)
    return form_class(formdata=formdata)


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


def _endpoint_answers(
    data: MultiDict, files: MultiDict, *, strict: bool
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Every posted field of a static-site form; a repeated name keeps all its values."""
    answers: dict[str, Any] = {}
    errors: list[FieldError] = []
    for key in data:
        if _is_special(key):
            continue
        values = [value.strip() for value in data.getlist(key)]
        answers[key[:MAX_ENDPOINT_KEY_CHARS]] = values[0] if len(values) == 1 else values
        if any(len(value) > MAX_ENDPOINT_VALUE_CHARS for value in values):
            errors.append(FieldError(key, "TYPE_TEXT", "This answer is too long."))
    uploads = _endpoint_uploads(files, errors)
    if strict:
        errors += _endpoint_checks(answers, uploads)
        if errors:
            raise SubmissionInvalid(errors)
    return answers, uploads


def _endpoint_uploads(files: MultiDict, errors: list[FieldError]) -> dict[str, UploadedFile]:
    uploads: dict[str, UploadedFile] = {}
    for key, upload in files.items(multi=True):
        if not isinstance(upload, FileStorage) or not upload.filename or _is_special(key):
            continue
        data = upload.read(MAX_ENDPOINT_FILE_BYTES + 1)
        if len(data) > MAX_ENDPOINT_FILE_BYTES:
            errors.append(FieldError(key, "FILES_TOO_BIG", "This file is larger than 10 MB."))
            continue
        if data:
            uploads[key] = describe_upload(upload.filename, data)
    return uploads


def describe_upload(filename: str, data: bytes) -> UploadedFile:
    """An endpoint's file: any kind is kept; the type is named only when content and name agree."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    extension = base.rsplit(".", 1)[1].lower() if "." in base else ""
    known = FORMATS.get(extension)
    agrees = known is not None and sniff(data) in known.sniffed_as
    content_type = known.content_type if agrees else "application/octet-stream"
    return UploadedFile(safe_filename(base, extension or "bin"), content_type, len(data), data)


def _endpoint_checks(answers: dict[str, Any], uploads: dict[str, UploadedFile]) -> list[FieldError]:
    errors: list[FieldError] = []
    if len(answers) + len(uploads) > MAX_ENDPOINT_KEYS:
        errors.append(
            FieldError("", "TOO_MANY_FIELDS", f"Send at most {MAX_ENDPOINT_KEYS} fields.")
        )
    if not uploads and not any(answers.values()):
        errors.append(FieldError("", "EMPTY", "The form was sent empty."))
    email = answers.get("email")
    if isinstance(email, str) and email and not _is_email(email):
        errors.append(FieldError("email", "TYPE_EMAIL", "Enter a valid email address."))
    return errors


def _special_fields(
    data: MultiDict, context: SubmissionContext, checked_emails: frozenset[str] = frozenset()
) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for name in ("_subject", "_next"):
        value = data.get(name, "").strip()
        if value:
            meta[name.lstrip("_")] = value[:2000]
    reply_to = data.get("_replyto", "").strip() or data.get("email", "").strip()
    if reply_to and (reply_to in checked_emails or _is_email(reply_to)):
        meta["reply_to"] = reply_to
    cc = [address.strip() for address in data.get("_cc", "").split(",") if address.strip()]
    if cc:
        meta["cc"] = [address for address in cc if _is_email(address)][:10]
    if context.referrer:
        meta["referrer"] = context.referrer[:2000]
    if context.user_agent:
        meta["user_agent"] = context.user_agent[:500]
    return meta


def _is_email(value: str) -> bool:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


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
            _remember_endpoint_keys(form.id, [*answers, *uploads], now)
        # Alone, the session has begun nothing unless a receiver read or added a row.
        if not stored_alone or db.session().in_transaction():
            db.session.commit()
        if form.is_endpoint:
            _note_stored_endpoint_keys(form.id, [*answers, *uploads])
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


def _is_special(key: str) -> bool:
    return key.startswith("_") or key in SPECIAL_FIELDS


def _endpoint_field_names(data: MultiDict) -> set[str]:
    """The names a static-site post stores answers under, as ``_endpoint_answers`` keys them."""
    return {key[:MAX_ENDPOINT_KEY_CHARS] for key in data if not _is_special(key)}


# The field names of each static-site form that this process has seen stored. Names are only
# ever added and form ids are never reused, so what is known stays true; a post that brings no
# new name needs no endpoint_keys row, and can be stored alone.
_known_endpoint_keys: dict[int, frozenset[str]] = {}
KNOWN_KEYS_FORMS = 1000  # forms remembered per process; past that, it starts afresh


def _stored_endpoint_keys(form_id: int) -> frozenset[str]:
    return _known_endpoint_keys.get(form_id, frozenset())


def _note_stored_endpoint_keys(form_id: int, keys: list[str]) -> None:
    known = _stored_endpoint_keys(form_id)
    if known.issuperset(keys):
        return
    if len(_known_endpoint_keys) >= KNOWN_KEYS_FORMS:
        _known_endpoint_keys.clear()
    _known_endpoint_keys[form_id] = known.union(keys)


def forget_endpoint_keys() -> None:
    """Drop the field names kept per form id (tests, whose ids start again)."""
    _known_endpoint_keys.clear()


def _remember_endpoint_keys(form_id: int, keys: list[str], now) -> None:
    if not keys:
        return
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    rows = [{"form_id": form_id, "key": key, "first_seen_at": now} for key in dict.fromkeys(keys)]
    db.session.execute(insert(EndpointKey).values(rows).on_conflict_do_nothing())


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
