"""Proof of work (ALTCHA): a challenge signed with the app's secret, solved in the browser's
web worker, verified here offline, and accepted once until it expires."""

from __future__ import annotations

import secrets
import time
from datetime import UTC
from datetime import datetime

import altcha
from flask import current_app
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.database import is_postgresql
from app.exceptions import ProofOfWorkInvalid
from app.exceptions import ProofOfWorkRequired
from app.extensions import db
from app.models import Form
from app.models import UsedChallenge
from app.models.types import utcnow

ALGORITHM = "PBKDF2/SHA-256"
# PBKDF2 iterations per try, and the hex prefix a derived key must start with: 12 zero bits,
# so the browser tries 4096 counters on average and the server derives one key to verify.
# Tuned so a phone solves it in about a second (bench/README.md).
COST = 500
KEY_PREFIX = "000"
# Long enough to fill in a long form after the widget solved it on first focus.
CHALLENGE_SECONDS = 2 * 3600
FIELD_NAME = "altcha"
# About one verified post in this many also deletes the used challenges that have expired.
FORGET_EVERY = 200

REQUIRED_MESSAGE = (
    "This form asks your browser to solve a small puzzle, which shows it is not a bot. The "
    "puzzle needs JavaScript, which seems to be off. Turn JavaScript on for this site and send "
    "the form again; your answers were not stored."
)
INVALID_MESSAGE = (
    "Your browser's answer to the form's puzzle has expired or was used already. Open the form "
    "again and send it once more."
)


def _secret() -> str:
    return "formyard.altcha:" + current_app.config["SECRET_KEY"]


def new_challenge(form: Form) -> dict:
    """A challenge for ``form``, as the widget fetches it."""
    challenge = altcha.create_challenge(
        ALGORITHM,
        COST,
        key_prefix=KEY_PREFIX,
        expires_at=int(time.time()) + CHALLENGE_SECONDS,
        data={"form": form.id, "salt": secrets.token_hex(8)},
        hmac_secret=_secret(),
    )
    return challenge.to_dict()


def check_proof_of_work(form: Form, payload: str | None) -> bool:
    """Whether the post carries a proof of work: True if it is good (and now used), False if
    there is none and the form does not require one. Raise ProofOfWorkRequired or
    ProofOfWorkInvalid otherwise."""
    if not payload:
        if form.require_proof_of_work:
            raise ProofOfWorkRequired(REQUIRED_MESSAGE)
        return False
    try:
        parsed = altcha.Payload.from_base64(payload)
        result = altcha.verify_solution(parsed, _secret())
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ProofOfWorkInvalid(INVALID_MESSAGE) from None
    data = parsed.challenge.parameters.data or {}
    if not result.verified or data.get("form") != form.id:
        raise ProofOfWorkInvalid(INVALID_MESSAGE)
    _use_once(parsed.challenge.signature, parsed.challenge.parameters.expires_at)
    if secrets.randbelow(FORGET_EVERY) == 0:
        db.session.execute(delete(UsedChallenge).where(UsedChallenge.expires_at < utcnow()))
    return True


def _use_once(signature: str, expires_at: int) -> None:
    """Record the challenge as used, in the request's transaction; a second use is refused,
    in any process (the row is shared)."""
    insert = postgresql_insert if is_postgresql() else sqlite_insert
    statement = (
        insert(UsedChallenge)
        .values(signature=signature, expires_at=datetime.fromtimestamp(expires_at, UTC))
        .on_conflict_do_nothing()
        .returning(UsedChallenge.signature)  # rowcount is -1 for the ORM's inserts on psycopg
    )
    if db.session.execute(statement).first() is None:
        raise ProofOfWorkInvalid(INVALID_MESSAGE)
