"""What a post carries: JSON answers as fields, a static-site post's fields and files, and
Formspree's special fields."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError
from email_validator import validate_email
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from werkzeug.datastructures import FileStorage
from werkzeug.datastructures import MultiDict

from app.caching import ProcessCache
from app.database import is_postgresql
from app.exceptions import SubmissionInvalid
from app.extensions import db
from app.fields import ErrorCode
from app.fields import FieldError
from app.fields import UploadedFile
from app.fields.upload import check_format
from app.fields.upload import file_extension
from app.fields.upload import safe_filename
from app.fields.validators import InvalidAnswer
from app.models import EndpointKey
from app.services.spam.scoring import RequestSignals

# Formspree's special fields: they steer the submission and are not shown as answers.
# "altcha" is the proof-of-work widget's solution (app/services/spam/proof_of_work.py).
SPECIAL_FIELDS = {
    "_next",
    "_subject",
    "_replyto",
    "_cc",
    "_gotcha",
    "_token",
    "_language",
    "altcha",
}
HONEYPOT_FIELD = "_gotcha"
# Special fields a static-site form also keeps as answers, under these names, as Formspree does:
# the sender's address and the subject are shown, searched, exported and sent like any answer.
ANSWERED_SPECIAL_FIELDS = ("_replyto", "_subject")
MAX_ENDPOINT_KEYS = 100
MAX_ENDPOINT_KEY_CHARS = 100
MAX_ENDPOINT_VALUE_CHARS = 100_000
MAX_ENDPOINT_FILE_BYTES = 10 * 1024 * 1024
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


def endpoint_answers(
    data: MultiDict, files: MultiDict, file_kinds: list[str], *, strict: bool
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Every posted field of a static-site form; a repeated name keeps all its values. Files
    are kept if their content is of ``file_kinds`` and agrees with their name; not strict
    (spam), the others are left out rather than refused."""
    answers: dict[str, Any] = {}
    errors: list[FieldError] = []
    for key in data:
        if _is_special(key) and key not in ANSWERED_SPECIAL_FIELDS:
            continue
        values = [value.strip() for value in data.getlist(key)]
        answers[key[:MAX_ENDPOINT_KEY_CHARS]] = values[0] if len(values) == 1 else values
        if any(len(value) > MAX_ENDPOINT_VALUE_CHARS for value in values):
            errors.append(FieldError(key, "TYPE_TEXT", "This answer is too long."))
    uploads = _endpoint_uploads(files, file_kinds, errors)
    if strict:
        errors += _endpoint_checks(answers, uploads)
        if errors:
            raise SubmissionInvalid(errors)
    return answers, uploads


def _endpoint_uploads(
    files: MultiDict, file_kinds: list[str], errors: list[FieldError]
) -> dict[str, UploadedFile]:
    uploads: dict[str, UploadedFile] = {}
    for key, upload in files.items(multi=True):
        if not isinstance(upload, FileStorage) or not upload.filename or _is_special(key):
            continue
        data = upload.read(MAX_ENDPOINT_FILE_BYTES + 1)
        if len(data) > MAX_ENDPOINT_FILE_BYTES:
            errors.append(FieldError(key, "FILES_TOO_BIG", "This file is larger than 10 MB."))
            continue
        if not data:
            continue
        try:
            uploads[key] = checked_upload(upload.filename, data, file_kinds)
        except InvalidAnswer as refusal:
            errors.append(FieldError(key, refusal.code, refusal.message))
    return uploads


def checked_upload(filename: str, data: bytes, file_kinds: list[str]) -> UploadedFile:
    """A static-site form's file, checked as a built form's file question checks it: its name
    is of ``file_kinds`` and its content is what its name says (HTML named x.png is not a
    PNG). Raise InvalidAnswer otherwise."""
    if not file_kinds:
        raise InvalidAnswer(ErrorCode.FILE_TYPE_NOT_ALLOWED, "This form does not take files.")
    extension = file_extension(filename)
    file_format, extension = check_format(extension, data, file_kinds)
    return UploadedFile(
        safe_filename(filename, extension), file_format.content_type, len(data), data
    )


def _endpoint_checks(answers: dict[str, Any], uploads: dict[str, UploadedFile]) -> list[FieldError]:
    errors: list[FieldError] = []
    if len(answers) + len(uploads) > MAX_ENDPOINT_KEYS:
        errors.append(
            FieldError("", "TOO_MANY_FIELDS", f"Send at most {MAX_ENDPOINT_KEYS} fields.")
        )
    if not uploads and not any(value for key, value in answers.items() if key != "_subject"):
        errors.append(FieldError("", "EMPTY", "The form was sent empty."))
    for key in ("email", "_replyto"):
        address = answers.get(key)
        if isinstance(address, str) and address and not _is_email(address):
            errors.append(FieldError(key, "TYPE_EMAIL", "Enter a valid email address."))
    return errors


def special_fields(
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


def _is_special(key: str) -> bool:
    return key.startswith("_") or key in SPECIAL_FIELDS


def endpoint_field_names(data: MultiDict) -> set[str]:
    """The names a static-site post stores answers under, as ``endpoint_answers`` keys them."""
    return {key[:MAX_ENDPOINT_KEY_CHARS] for key in data if not _is_special(key)}


# The field names of each static-site form that this process has seen stored. Names are only
# ever added and form ids are never reused, so what is known stays true; a post that brings no
# new name needs no endpoint_keys row, and can be stored alone.
KNOWN_KEYS_FORMS = 1000  # forms remembered per process; past that, it starts afresh
_known_endpoint_keys: ProcessCache[int, frozenset[str]] = ProcessCache(max_entries=KNOWN_KEYS_FORMS)


def stored_endpoint_keys(form_id: int) -> frozenset[str]:
    return _known_endpoint_keys.get(form_id, frozenset())


def note_stored_endpoint_keys(form_id: int, keys: list[str]) -> None:
    known = stored_endpoint_keys(form_id)
    if known.issuperset(keys):
        return
    _known_endpoint_keys.set(form_id, known.union(keys))


def remember_endpoint_keys(form_id: int, keys: list[str], now) -> None:
    if not keys:
        return
    insert = postgresql_insert if is_postgresql() else sqlite_insert
    rows = [{"form_id": form_id, "key": key, "first_seen_at": now} for key in dict.fromkeys(keys)]
    db.session.execute(insert(EndpointKey).values(rows).on_conflict_do_nothing())


@dataclass(frozen=True)
class SubmissionContext:
    """What the request tells about the submission, beyond its fields."""

    origin: str | None = None
    referrer: str | None = None
    user_agent: str | None = None
    idempotency_key: str | None = None
    # The Idempotency-Key header's, rather than a page's one-time token (idempotency.py).
    key_from_client: bool = False
    # idempotency.request_fingerprint of the body, when it carries a key.
    fingerprint: str | None = None
    same_site: bool = True
    already_responded: bool = False
    # What a public post tells about its sender, for its spam score; None: not scored (API).
    signals: RequestSignals | None = None
