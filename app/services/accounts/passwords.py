"""Password hashing (argon2id) and the rules a new password must meet."""

from __future__ import annotations

import unicodedata
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError

from app.exceptions import ValidationFailed

MIN_PASSWORD_LENGTH = 10
# Long passphrases are welcome; the cap only keeps one request from hashing megabytes.
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


@cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both failures take the same time. Made
    on first use: hashing at import would cost every process (workers, CLI, exports) half a
    second and a 64 MiB peak of memory."""
    return _hasher.hash("formyard-timing-equaliser")


def normalize(password: str) -> str:
    # The same passphrase typed on another keyboard may arrive in another Unicode form.
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    return _hasher.hash(normalize(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), normalize(password)) and bool(
            password_hash
        )
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most common passwords from real leaks.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password_rules(password: str, *, field: str = "password", email: str = "") -> None:
    """Raise ValidationFailed, with a message a person can act on, for a password too weak."""
    password = normalize(password)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"Use at least {MIN_PASSWORD_LENGTH} characters; a few words make a good passphrase.",
            field=field,
            code="password_too_short",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"Use at most {MAX_PASSWORD_LENGTH} characters.", field=field, code="password_too_long"
        )
    lowered = password.lower()
    if lowered in common_passwords() or (email and lowered == email.lower()):
        raise ValidationFailed(
            "This password is too common and easy to guess; choose another.",
            field=field,
            code="password_too_common",
        )
