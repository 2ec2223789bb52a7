"""The API's one error shape, ``{"error": {"code", "message", "details"}}``, for every refusal:
the services' domain errors, webargs' parsing errors, rate limits and Werkzeug's HTTP errors."""

from __future__ import annotations

import time
from typing import Any

from flask import Response
from flask import current_app
from flask import jsonify
from flask import request
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import RequestEntityTooLarge

from app import errors as site_errors
from app.errors import ERROR_CODES
from app.errors import FRIENDLY_MESSAGES
from app.exceptions import DomainError
from app.exceptions import FormUnavailable
from app.exceptions import SubmissionInvalid
from app.extensions import db
from app.extensions import limiter

Details = dict[str, list[str]]


class ApiError(Exception):
    """A refusal the API itself makes (no token, a read-only token, a malformed cursor)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: Details | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or ERROR_CODES.get(status, "error")
        self.message = message
        self.details = details
        self.headers = headers or {}


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> Response:
    response = jsonify(error={"code": code, "message": message, "details": details})
    response.status_code = status
    response.headers.extend(headers or {})
    return response


def handle_api_error(error: ApiError) -> Response:
    db.session.rollback()
    return error_response(error.status, error.code, error.message, error.details, error.headers)


def handle_domain_error(error: DomainError) -> Response:
    db.session.rollback()
    if isinstance(error, SubmissionInvalid):
        return error_response(422, "invalid", error.message, submission_details(error))
    if isinstance(error, FormUnavailable):
        # Not the public page's 404/403: the form exists for this user, it is just not taking
        # submissions in its current state.
        code = f"form_{error.availability.value}"
        return error_response(409, code, error.message)
    details = error.field_errors or None
    return error_response(error.status, error.code.lower(), error.message, details)


def handle_database_unavailable(error: Exception) -> Response:
    """The site's 503 for a database out of reach (logged in one line, rolled back, with
    Retry-After), in the API's shape."""
    site_answer = site_errors.handle_database_unavailable(error)
    retry = {"Retry-After": site_answer.headers["Retry-After"]}
    return error_response(503, ERROR_CODES[503], FRIENDLY_MESSAGES[503], headers=retry)


def submission_details(error: SubmissionInvalid) -> Details:
    details: Details = {}
    for field_error in error.errors:
        path = f"answers.{field_error.key}" if field_error.key else "answers"
        details.setdefault(path, []).append(field_error.message)
    return details


def handle_http_error(error: HTTPException) -> Response:
    db.session.rollback()
    status = error.code or 500
    code = ERROR_CODES.get(status, "error")
    if isinstance(error, RateLimitExceeded):
        message = f"Too many requests: the limit is {error.description}. Wait and try again."
        return error_response(429, code, message, headers={"Retry-After": str(retry_after())})
    if isinstance(error, RequestEntityTooLarge):
        limit = current_app.config["API_MAX_CONTENT_LENGTH"]
        return error_response(413, code, f"The body is larger than {limit} bytes.")
    messages = getattr(error, "data", {}).get("messages")
    if messages:  # webargs could not parse the request
        message = "The request is malformed." if status == 400 else "Some values are not valid."
        return error_response(status, code, message, flatten_messages(messages))
    if status == 405:
        allowed = error.get_response().headers["Allow"]
        message = f"This address does not take {request.method}; it takes {allowed}."
        return error_response(status, code, message, headers={"Allow": allowed})
    return error_response(status, code, _message(error, status))


def _message(error: HTTPException, status: int) -> str:
    if status >= 500:
        return FRIENDLY_MESSAGES[500]
    own = error.description if error.description != type(error).description else None
    return own or FRIENDLY_MESSAGES.get(status) or error.name


def retry_after() -> int:
    """Seconds until the rate limit that was hit lets requests through again."""
    current = limiter.current_limit
    if current is None:
        return 1
    return max(1, int(current.reset_at - time.time()))


def flatten_messages(messages: Any) -> Details:
    """webargs' ``{"json": {"settings": {"closes_at": [...]}}}`` as ``{"settings.closes_at":
    [...]}``, the paths the services use for their field errors too."""
    if isinstance(messages, dict) and len(messages) == 1:
        (location, inner), *_ = messages.items()
        if location in {"json", "query", "querystring", "headers", "view_args"}:
            messages = inner
    details: Details = {}
    _flatten(messages, "", details)
    return details


def _flatten(messages: Any, path: str, details: Details) -> None:
    if isinstance(messages, dict):
        for key, inner in messages.items():
            if key == "_schema":
                _flatten(inner, path, details)
            elif isinstance(key, int):
                _flatten(inner, f"{path}[{key}]", details)
            else:
                _flatten(inner, f"{path}.{key}" if path else str(key), details)
    elif isinstance(messages, list) and all(isinstance(item, str) for item in messages):
        details.setdefault(path or "body", []).extend(messages)
    elif isinstance(messages, list):
        for item in messages:
            _flatten(item, path, details)
    else:
        details.setdefault(path or "body", []).append(str(messages))
