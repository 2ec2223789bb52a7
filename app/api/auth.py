"""Who is calling: a personal token in ``Authorization: Bearer``. Sessions and cookies play no
part in the API, so it needs no CSRF token and a page cannot call it as a signed-in user."""

from __future__ import annotations

from flask import g
from flask import request

from app.api.errors import ApiError
from app.models import ApiToken
from app.models import User
from app.services.accounts import tokens

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="Formyard API"'}


def current_token() -> ApiToken | None:
    """The request's live token, looked up once per request (the rate limiter asks first)."""
    if "api_token" not in g:
        g.api_token = _token_from_header()
    return g.api_token


def _token_from_header() -> ApiToken | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return tokens.authenticate(value.strip())


def require_token() -> None:
    """A before_request hook: a live token, whose scope allows the method."""
    token = current_token()
    if token is None:
        given = "Authorization" in request.headers
        message = (
            "The token is unknown or revoked, or its user is deactivated."
            if given
            else "Send a token: Authorization: Bearer <token>. Make one at /account."
        )
        raise ApiError(401, message, headers=CHALLENGE)
    if request.method not in SAFE_METHODS and not token.can_write:
        raise ApiError(
            403,
            "This token may only read. Make a read and write token to change things.",
            code="insufficient_scope",
        )


def api_user() -> User:
    """The user the token acts as; their role decides what they may do."""
    token = current_token()
    assert token is not None  # require_token ran first
    return token.user
