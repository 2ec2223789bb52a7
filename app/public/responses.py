"""Answers on the public side, in Formspree's conventions: JSON for scripts, pages for people."""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

from flask import Response
from flask import current_app
from flask import jsonify
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import RequestEntityTooLarge

from app.errors import FRIENDLY_MESSAGES
from app.exceptions import DomainError
from app.exceptions import SubmissionInvalid
from app.exceptions import Throttled
from app.fields.upload import format_size
from app.models import Form
from app.public.pages import render_form_page
from app.request_checks import NUL
from app.security import CONTENT_SECURITY_POLICY
from app.services import forms as form_service
from app.services.submissions import Accepted
from app.services.submissions import fields_from_json

# Formspree's own client (@formspree/core) sends the last two on every post.
PREFLIGHT_HEADERS = (
    "Content-Type, Accept, X-Requested-With, Idempotency-Key, "
    "Formspree-Client, Formspree-Session-Data"
)
RESPONDED_COOKIE = "formyard_responded_{id}"
ERROR_CODES = {
    404: "FORM_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "FILES_TOO_BIG",
    429: "TOO_MANY_REQUESTS",
}
# Read at most this much of a body that is too large, so the client can read our 413 instead of
# seeing its connection reset while it is still sending.
DRAIN_LIMIT = 64 * 1024 * 1024


def wants_json() -> bool:
    if request.headers.get("X-Requested-With", "").lower() == "xmlhttprequest":
        return True
    accept = request.accept_mimetypes
    return accept.best_match(["text/html", "application/json"]) == "application/json" and (
        accept["application/json"] > accept["text/html"]
    )


def submitted_fields() -> tuple[MultiDict, MultiDict]:
    """Url-encoded, multipart and JSON bodies alike; JSON lists keep all their values."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise DomainError("Send a JSON object of fields.", code="INVALID_JSON")
        return fields_from_json(body), MultiDict()
    return request.form, request.files


def is_same_site() -> bool:
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return form_service.normalize_origin(origin) == form_service.normalize_origin(request.host_url)


def already_responded(form: Form) -> bool:
    return form.one_response_per_browser and RESPONDED_COOKIE.format(id=form.id) in request.cookies


def page(form: Form, html: str, status: int, embedded: bool) -> Response:
    response = make_response(html, status)
    response.headers["Content-Security-Policy"] = _page_policy(form, embedded)
    response.headers["Cache-Control"] = "no-store"
    return _with_cors(form, response)


def _page_policy(form: Form, embedded: bool) -> str:
    ancestors = " ".join(form.allowed_origins) if embedded and form.allowed_origins else "'none'"
    # A redirect after the post must be allowed by form-action too.
    targets = {"'self'", *form.allowed_origins}
    if form.redirect_url:
        parts = urlsplit(form.redirect_url)
        targets.add(f"{parts.scheme}://{parts.netloc}")
    policy = CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", f"frame-ancestors {ancestors}"
    )
    return policy.replace("form-action 'self'", "form-action " + " ".join(sorted(targets)))


def message_page(
    form: Form,
    heading: str,
    message: str,
    status: int,
    embedded: bool,
    *,
    body_html=None,
    again_url: str | None = None,
) -> Response:
    html = render_template(
        "public/message.html",
        heading=heading,
        message=message,
        body_html=body_html,
        again_url=again_url,
        embedded=embedded,
    )
    return page(form, html, status, embedded)


def accepted(form: Form, result: Accepted, embedded: bool) -> Response:
    thanks = url_for("public.thanks", slug=form.slug, **({"embed": "1"} if embedded else {}))
    next_url = result.next_url or thanks
    if wants_json():
        # Formspree's clients read success from a string ``next``: where a person would go.
        own_thanks = url_for("public.thanks", slug=form.slug, _external=True)
        response = jsonify(ok=True, next=result.next_url or own_thanks)
    else:
        response = redirect(next_url, 303)
    if form.one_response_per_browser:
        response.set_cookie(
            RESPONDED_COOKIE.format(id=form.id),
            "1",
            max_age=365 * 24 * 3600,
            path=f"/f/{form.slug}",
            httponly=True,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return _with_cors(form, response)


def invalid(form: Form, error: SubmissionInvalid, embedded: bool) -> Response:
    if wants_json():
        return _with_cors(form, error_response(422, "INVALID", _summary(error), error))
    if error.form is None:  # a static-site form: say what to fix, and how to go back
        html = render_template(
            "public/invalid.html", errors=error.errors, embedded=embedded, back=request.referrer
        )
        return page(form, html, 422, embedded)
    action = url_for(
        "public.submit_embedded_form" if embedded else "public.submit_form", slug=form.slug
    )
    html = render_form_page(
        form, embedded=embedded, action=action, bound=error.form, errors=error.errors
    )
    return page(form, html, 422, embedded)


def _summary(error: SubmissionInvalid) -> str:
    count = len(error.errors)
    return (
        "The form was sent empty."
        if error.errors and error.errors[0].code == "EMPTY"
        else (
            f"{count} field{'s' if count != 1 else ''} need{'s' if count == 1 else ''} attention."
        )
    )


def error_response(
    status: int, code: str, message: str, invalid: SubmissionInvalid | None = None
) -> Response:
    """Formspree's error shape: ``{"error": summary, "errors": [{field, code, message}]}``."""
    if invalid is not None:
        errors = [item.to_dict() for item in invalid.errors]
    else:
        errors = [{"field": None, "code": code, "message": message}]
    response = jsonify(error=message, errors=errors)
    response.status_code = status
    return response


def error(status: int, code: str, message: str) -> Response:
    form = _form_of_request()
    if wants_json() or request.method == "OPTIONS":
        response = error_response(status, code, message)
    else:
        embedded = request.path.endswith("/embed") or request.args.get("embed") == "1"
        heading = "This form is not available" if status in {403, 404} else "Something is not right"
        html = render_template(
            "public/message.html", heading=heading, message=message, embedded=embedded
        )
        response = make_response(html, status)
    return _with_cors(form, response) if form else response


def http_error(exception: HTTPException) -> Response:
    status = exception.code or 500
    if isinstance(exception, RequestEntityTooLarge):
        _drain_request_body()
        limit = format_size(current_app.config["MAX_CONTENT_LENGTH"])
        message = f"What you sent is too large. The limit is {limit} in all, files included."
    else:
        own = exception.description
        own = own if own != type(exception).description else None
        message = own or FRIENDLY_MESSAGES.get(status, exception.name)
    code = ERROR_CODES.get(status, exception.name.upper().replace(" ", "_"))
    response = error(status, code, message)
    if status == 429:
        with contextlib.suppress(Exception):
            retry_after = exception.get_response().headers.get("Retry-After")
            if retry_after:
                response.headers["Retry-After"] = retry_after
    return response


def _drain_request_body() -> None:
    stream = request.environ.get("wsgi.input")
    remaining = min(request.content_length or 0, DRAIN_LIMIT)
    with contextlib.suppress(Exception):
        while remaining > 0:
            chunk = stream.read(min(remaining, 1024 * 1024))
            if not chunk:
                break
            remaining -= len(chunk)


def _form_of_request() -> Form | None:
    slug = (request.view_args or {}).get("slug")
    # A slug refused as malformed is not looked up while its refusal is answered.
    return form_service.get_form_by_slug(slug) if slug and NUL not in slug else None


def throttled(form: Form, exception: Throttled) -> Response:
    response = error(429, ERROR_CODES[429], exception.message)
    response.headers["Retry-After"] = str(exception.retry_after)
    return response


def endpoint_get(form: Form) -> Response:
    message = (
        "This address receives form posts from websites; it has no page of its own. "
        f'Use it as the action of an HTML form: <form action="{request.base_url}" method="POST">.'
    )
    response = error(405, "METHOD_NOT_ALLOWED", message)
    response.headers["Allow"] = "POST, OPTIONS"
    return response


def preflight(form: Form) -> Response:
    origin = request.headers.get("Origin")
    if not form.allows_origin(origin):
        return error_response(403, "ORIGIN_NOT_ALLOWED", "This website may not post to this form.")
    response = make_response("", 204)
    response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = PREFLIGHT_HEADERS
    response.headers["Access-Control-Max-Age"] = "600"
    return _with_cors(form, response)


def json_for(form: Form, body: dict) -> Response:
    """JSON the form's websites may read (CORS for its allowed origins)."""
    return _with_cors(form, jsonify(body))


def _with_cors(form: Form, response: Response) -> Response:
    origin = request.headers.get("Origin")
    if origin and form.allows_origin(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.vary.add("Origin")
    return response
