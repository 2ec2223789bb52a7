"""Idempotency keys, as the IETF Idempotency-Key draft has them: a repeat of a request (same
key, same body) gets the first answer again; the same key with another body is refused (422);
the same key while its first request is still being handled is told so (409).

A key is stored with its submission, together with the request's fingerprint: a SHA-256 of a
canonical form of the body (the fields by name, each name's values in order, and each file's
name and the SHA-256 of its bytes), so that the same answers sent as JSON with their keys in
another order, or a multipart body with another boundary, are the same request.

A key the client chose (the Idempotency-Key header) is also claimed before the work starts, in
a committed row of its own (``IdempotencyClaim``), so that a second request with the key sees
the first one in flight on any database and from any process. The claim only decides that
answer: two requests that both reach the insert still meet the submissions' unique
(form, key), where one is stored and the other answered from it. A page's one-time token is a
key too, but not claimed: a double click's second post waits for the first and gets its answer,
which is what the browser shows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import or_
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage
from werkzeug.datastructures import MultiDict

from app.exceptions import IdempotencyKeyInFlight
from app.exceptions import IdempotencyKeyReused
from app.models import IdempotencyClaim
from app.models.types import utcnow
from app.services.submissions.posted import SubmissionContext
from app.services.submissions.rows import autocommits
from app.services.submissions.rows import connection_of_its_own

# A claim older than this is taken to be left by a request that died (a killed worker): the
# key is free again. Longer than a request may run (gunicorn's timeout is 30 seconds).
CLAIM_LIFETIME = timedelta(minutes=2)
READ_CHUNK = 1024 * 1024

_claims = IdempotencyClaim.__table__


def request_fingerprint(data: MultiDict, files: MultiDict) -> str:
    """The SHA-256 (hex) of the request's fields and files in a canonical form."""
    fields = sorted([key, data.getlist(key)] for key in data)
    uploads = sorted(
        [key, [[upload.filename, _file_digest(upload)] for upload in files.getlist(key)]]
        for key in files
    )
    canonical = json.dumps([fields, uploads], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _file_digest(upload: FileStorage) -> str:
    """The SHA-256 of an uploaded file's bytes, read from its start and left at its start
    for the validation that reads it next."""
    digest = hashlib.sha256()
    stream = upload.stream
    stream.seek(0)
    while chunk := stream.read(READ_CHUNK):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def check_same_request(stored_fingerprint: str | None, context: SubmissionContext) -> None:
    """Raise IdempotencyKeyReused if the submission stored under the key came from another
    body. A submission stored before fingerprints were kept matches any."""
    if stored_fingerprint and context.fingerprint and stored_fingerprint != context.fingerprint:
        raise IdempotencyKeyReused(_reused_message(context), field="Idempotency-Key")


def _reused_message(context: SubmissionContext) -> str:
    if context.key_from_client:
        return (
            "This Idempotency-Key was already used for a submission with other answers, which "
            "was stored; nothing of this one was. Send new answers with a new key."
        )
    return (
        "This page was already sent with other answers, which were stored; these were not. "
        "Open the form again to send a new response."
    )


IN_FLIGHT_MESSAGE = (
    "A submission with this Idempotency-Key is still being handled. Try again in a moment: "
    "you will get its answer."
)


@dataclass(frozen=True)
class Claim:
    form_id: int
    key: str
    claimed_at: datetime


@contextmanager
def claimed(form_id: int, context: SubmissionContext) -> Iterator[None]:
    """Hold the client's key for the duration of the block; IdempotencyKeyInFlight if another
    request holds it. Nothing to hold without a key of the client's own."""
    if not (context.idempotency_key and context.key_from_client):
        yield
        return
    claim = _claim(form_id, context.idempotency_key)
    try:
        yield
    finally:
        _release(claim)


def _claim(form_id: int, key: str) -> Claim:
    now = utcnow()
    claim = Claim(form_id, key, now)
    with connection_of_its_own() as connection:
        try:
            connection.execute(insert(_claims).values(form_id=form_id, key=key, claimed_at=now))
            _commit(connection)
            return claim
        except IntegrityError:
            connection.rollback()
        # Held: take it over only if the request that holds it has died.
        taken = connection.execute(
            update(_claims)
            .where(
                _claims.c.form_id == form_id,
                _claims.c.key == key,
                _claims.c.claimed_at < now - CLAIM_LIFETIME,
            )
            .values(claimed_at=now)
        ).rowcount
        _commit(connection)
    if not taken:
        raise IdempotencyKeyInFlight(IN_FLIGHT_MESSAGE, field="Idempotency-Key")
    return claim


def _release(claim: Claim) -> None:
    """Give the key back (its submission, if any, is committed and answers for it now), and
    drop claims that requests which died left behind."""
    with connection_of_its_own() as connection:
        connection.execute(
            delete(_claims).where(
                or_(
                    (_claims.c.form_id == claim.form_id)
                    & (_claims.c.key == claim.key)
                    & (_claims.c.claimed_at == claim.claimed_at),
                    _claims.c.claimed_at < claim.claimed_at - CLAIM_LIFETIME,
                )
            )
        )
        _commit(connection)


def _commit(connection) -> None:
    if not autocommits(connection):
        connection.commit()
