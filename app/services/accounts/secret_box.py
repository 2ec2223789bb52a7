"""Encrypting small secrets kept in the database (the authenticator app's shared secret) with a
key derived from the app's SECRET_KEY.

A copy of the database alone then does not give away anyone's second factor. Changing
SECRET_KEY makes the stored secrets unreadable: everyone with an authenticator app would sign
in with a recovery code and set the app up again (or an operator runs ``flask users
reset-2fa``).
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

# Names what the derived key is for, so another use of SECRET_KEY never gets the same key.
KEY_PURPOSE = b"formyard/two-step/totp-secret/v1"


class SecretUnreadable(Exception):
    """The stored secret was encrypted with another SECRET_KEY, or was changed."""


@lru_cache(maxsize=4)
def _fernet_for(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_PURPOSE).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _fernet() -> Fernet:
    return _fernet_for(current_app.config["SECRET_KEY"])


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise SecretUnreadable from None
