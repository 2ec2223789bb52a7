"""Personal API tokens: made for a person, shown once, kept as a hash, revoked at any time.

A token acts as its user with the user's role of the moment; its scope can only narrow that
(a read token never writes). Revoking it, or deactivating its user, stops it at the next
request, since every request looks the token and its user up again.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select

from app.exceptions import NotFound
from app.exceptions import ValidationFailed
from app.extensions import db
from app.models import ApiToken
from app.models import TokenScope
from app.models import User
from app.models.types import MAX_ID
from app.models.types import utcnow
from app.services.audit.recording import record

TOKEN_PREFIX = "fy_"  # noqa: S105 (marks our tokens; not a secret)
# 32 random bytes: 43 URL-safe characters after the prefix.
TOKEN_BYTES = 32
MAX_TOKEN_CHARS = 100
SHOWN_PREFIX_CHARS = 7  # "fy_" and four characters of the secret part
MAX_NAME_CHARS = 100
MAX_ACTIVE_TOKENS = 50
# Writing last_used_at on every request would make each read a write; a minute is precise
# enough to tell whether a token is still in use.
LAST_USED_PRECISION = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def parse_scope(scope: str | TokenScope) -> TokenScope:
    try:
        return TokenScope(scope)
    except ValueError:
        raise ValidationFailed("Choose read, or read and write.", field="scope") from None


def create_token(user: User, name: str, scope: str | TokenScope) -> tuple[ApiToken, str]:
    """A new token for ``user`` and its secret value, which the caller shows once."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise ValidationFailed(
            f"Name the token (at most {MAX_NAME_CHARS} characters), so you know where it is used.",
            field="name",
        )
    scope = parse_scope(scope)
    if count_active_tokens(user) >= MAX_ACTIVE_TOKENS:
        raise ValidationFailed(
            f"You have {MAX_ACTIVE_TOKENS} tokens; revoke one you no longer use first."
        )
    value = new_token()
    token = ApiToken(
        user_id=user.id,
        name=name,
        scope=scope,
        token_hash=hash_token(value),
        prefix=value[:SHOWN_PREFIX_CHARS],
    )
    db.session.add(token)
    db.session.flush()  # the entry names the token's id
    record("token.created", token, details={"scope": scope.value})
    db.session.commit()
    return token, value


def count_active_tokens(user: User) -> int:
    query = select(func.count(ApiToken.id)).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)
    )
    return db.session.scalar(query) or 0


def list_tokens(user: User) -> list[ApiToken]:
    """The user's tokens, active ones first, newest first."""
    query = (
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
    )
    return list(db.session.scalars(query))


def get_token_for(user: User, token_id: int) -> ApiToken:
    """One of ``user``'s own tokens; nobody manages someone else's."""
    token = db.session.get(ApiToken, token_id) if 0 < token_id <= MAX_ID else None
    if token is None or token.user_id != user.id:
        raise NotFound("No such token.")
    return token


def revoke_token(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record("token.revoked", token)
        db.session.commit()


def authenticate(value: str, now: datetime | None = None) -> ApiToken | None:
    """The live token with this secret value, or None: unknown, revoked, or its user
    deactivated. Notes when it was last used."""
    if not value.startswith(TOKEN_PREFIX) or len(value) > MAX_TOKEN_CHARS:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(value)))
    if token is None or token.is_revoked or not token.user.is_active_user:
        return None
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        token.last_used_at = now
        db.session.commit()
    return token
