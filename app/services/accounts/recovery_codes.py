"""Recovery codes: ten single-use codes that stand in for the second step when the
authenticator app is lost. Shown once when made; only their hashes are kept.

They are kept as SHA-256, not argon2 like passwords: a password is chosen by a person and may
be guessed from a list, so its hash must be slow; a recovery code is 80 random bits, which no
amount of fast hashing can search, and a fast hash lets a sign-in find the code with one
indexed lookup rather than ten slow verifications.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from app.exceptions import ValidationFailed
from app.extensions import db
from app.models import RecoveryCode
from app.models import User
from app.models.types import utcnow
from app.services.accounts import throttle

CODE_COUNT = 10
# Without 0/o, 1/l/i: easy to read off paper and to type.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
GROUPS = 4
GROUP_LENGTH = 4  # 16 characters of 31: about 79 bits
MAX_CODE_CHARS = 40
WRONG_CODE = "That recovery code is not right, or was used already."


def _new_code() -> str:
    groups = ("".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS))
    return "-".join(groups)


def normalize_code(code: str) -> str:
    """What people type: any case, with or without the dashes and spaces."""
    return "".join(character for character in code.lower() if character.isalnum())


def hash_code(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def replace_codes(user: User) -> list[str]:
    """New codes for ``user``, old ones gone; the caller commits and shows them once."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_code() for _ in range(CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=hash_code(code)) for code in codes)
    return codes


def delete_codes(user: User) -> None:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def count_unused(user: User) -> int:
    query = select(func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
    )
    return db.session.scalar(query) or 0


def spend_code(user: User, code: str, address: str) -> None:
    """Use one of ``user``'s unused codes, or raise; failures are throttled like passwords."""
    throttle.ensure_login_allowed(user.email, address, throttle.SECOND_STEP)
    normalized = normalize_code(code)
    if not normalized or len(code) > MAX_CODE_CHARS:
        throttle.record_login_failure(user.email, address, throttle.SECOND_STEP)
        raise ValidationFailed(WRONG_CODE, field="recovery_code", code="wrong_recovery_code")
    # One UPDATE that only matches an unused code: two sign-ins racing with the same code
    # cannot both spend it.
    spent = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == hash_code(normalized),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    db.session.commit()
    if spent.rowcount != 1:
        throttle.record_login_failure(user.email, address, throttle.SECOND_STEP)
        raise ValidationFailed(WRONG_CODE, field="recovery_code", code="wrong_recovery_code")
