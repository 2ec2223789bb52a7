"""One place that answers errors: JSON under /api/ and for JSON clients, a page elsewhere."""

from __future__ import annotations

import contextlib

from flask import Flask
from flask import Response
from flask import current_app
from flask import jsonify
from flask import render_template
from flask import request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError
from werkzeug.exceptions import SecurityError
from werkzeug.exceptions import default_exceptions

from app.exceptions import DomainError
from app.exceptions import NotAllowed
from app.exceptions import NotFound
from app.extensions import db

ERROR_PAGES = {400, 403, 404, 405, 413, 422, 429, 500}
FRIENDLY_MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have permission to do that.",
    404: "There is nothing here. The link may be old or mistyped.",
    405: "That page does not accept this kind of request.",
    413: "What you sent is too large.",
    422: "Some of what you sent is not valid.",
    429: "Too many requests. Please wait a moment and try again.",
    500: "Something went wrong on our side. It has been logged.",
    503: "We cannot save or show anything for a moment. Please try again shortly.",
}
# Seconds a client is asked to wait when the database is out of reach (a restart, a failover).
DATABASE_RETRY_AFTER = 5
ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_server_error)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(PoolTimeoutError, handle_database_unavailable)
    # The API and the public pages answer these in their own shape, by their blueprint's handlers.
    app.register_error_handler(NotFound, handle_refusal)
    app.register_error_handler(NotAllowed, handle_refusal)


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def json_error(status: int, code: str, message: str, details: object = None) -> Response:
    body: dict = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    response = jsonify(error=body)
    response.status_code = status
    return response


def handle_http_error(error: HTTPException):
    status = error.code or 500
    message = _message_for(error, status)
    headers = _headers_for(error)
    if isinstance(error, SecurityError):
        # The Host header is not ours: answer plainly, without building URLs from it.
        return Response(message + "\n", status, {"Content-Type": "text/plain; charset=utf-8"})
    if wants_json():
        response = json_error(status, ERROR_CODES.get(status, "error"), message)
        response.headers.extend(headers)
        return response
    template = "errors/error.html"
    return (
        render_template(template, status=status, title=error.name, message=message),
        status,
        headers,
    )


def handle_refusal(error: DomainError):
    """A service's NotFound or NotAllowed, answered exactly as abort(404) or abort(403) is: the
    friendly message for the status, not the service's words."""
    return handle_http_error(default_exceptions[error.status]())


def handle_server_error(error: InternalServerError):
    db.session.rollback()
    return handle_http_error(InternalServerError())


def handle_database_unavailable(error: Exception) -> Response:
    """503 with Retry-After: the database is out of reach (restarting, failing over, no free
    connection), which is temporary, unlike a bug. Touches neither the database nor the
    signed-in user, so it answers even while the outage lasts."""
    # One line, no traceback: an outage makes one per request, and the cause is all that varies.
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[:1]
    current_app.logger.warning("database unavailable, answering 503: %s", "".join(reason))
    with contextlib.suppress(Exception):
        db.session.rollback()
    message = FRIENDLY_MESSAGES[503]
    if wants_json() or request.headers.get("X-Requested-With", "").lower() == "xmlhttprequest":
        response = json_error(503, ERROR_CODES[503], message)
    else:
        html = render_template("errors/unavailable.html", message=message)
        response = Response(html, 503, content_type="text/html; charset=utf-8")
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    response.headers["Cache-Control"] = "no-store"
    return response


def _message_for(error: HTTPException, status: int) -> str:
    if isinstance(error, CSRFError):
        return "The form expired or was sent from elsewhere. Reload the page and try again."
    if isinstance(error, RateLimitExceeded):
        return FRIENDLY_MESSAGES[429]
    if isinstance(error, SecurityError):
        return "Unknown host."
    default = FRIENDLY_MESSAGES.get(status)
    description = error.description if error.description != type(error).description else None
    return description or default or error.name


def _headers_for(error: HTTPException) -> dict[str, str]:
    headers = {}
    if isinstance(error, RateLimitExceeded) or error.code == 429:
        response = error.get_response()
        retry_after = response.headers.get("Retry-After")
        if retry_after:
            headers["Retry-After"] = retry_after
    if error.code == 405:
        response = error.get_response()
        if "Allow" in response.headers:
            headers["Allow"] = response.headers["Allow"]
    return headers
