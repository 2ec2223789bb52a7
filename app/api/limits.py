"""Rate limits: one budget per token, shared by all its requests, and a smaller one per address
for requests without a valid token. Counters live where Flask-Limiter keeps them (Redis when
REDIS_URL is set), so every process shares them."""

from __future__ import annotations

import logging
import time

from flask import Response
from flask import current_app
from flask import request
from sqlalchemy.exc import SQLAlchemyError

from app.api.auth import current_token
from app.extensions import db
from app.extensions import limiter
from app.models import ApiToken

log = logging.getLogger("formyard.api")


def rate_limit() -> str:
    setting = "API_RATE_LIMIT" if _token_for_limits() else "API_ANONYMOUS_RATE_LIMIT"
    return current_app.config[setting]


def rate_limit_key() -> str:
    token = _token_for_limits()
    return f"token:{token.id}" if token else f"address:{request.remote_addr}"


def _token_for_limits() -> ApiToken | None:
    """The request's token, or None when the database cannot say. Flask-Limiter takes any error
    raised here for its own storage failing and falls back to per-process counters; counted by
    address instead, the request goes on to require_token, which meets the outage again and
    answers 503."""
    try:
        return current_token()
    except SQLAlchemyError:
        db.session.rollback()
        return None


# One shared scope: a budget covers every API operation, not each one separately.
api_limit = limiter.shared_limit(rate_limit, scope="api", key_func=rate_limit_key)


def add_rate_limit_headers(response: Response) -> Response:
    """The IETF draft's RateLimit-Limit, -Remaining, -Reset (seconds) and -Policy headers;
    Flask-Limiter adds its X-RateLimit-* ones (Reset as a Unix time) beside them."""
    try:
        current = limiter.current_limit
        if current is None:
            return response
        window = current.limit.get_expiry()
        response.headers["RateLimit-Limit"] = str(current.limit.amount)
        response.headers["RateLimit-Remaining"] = str(current.remaining)
        response.headers["RateLimit-Reset"] = str(max(0, int(current.reset_at - time.time())))
        response.headers["RateLimit-Policy"] = f"{current.limit.amount};w={window}"
    except Exception:  # the counters' store failed: answer without the headers, not with a 500
        log.warning("rate limit headers left out: the limiter's storage failed", exc_info=True)
    return response
