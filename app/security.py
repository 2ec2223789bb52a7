"""Response headers, request ids and logs, and safe redirects, for every request."""

from __future__ import annotations

import logging
import sys
import time
import uuid
from urllib.parse import urlsplit

from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import request
from flask.logging import default_handler
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from app.logs import TextFormatter
from app.logs import make_formatter

log = logging.getLogger("formyard.request")

# No inline script or style anywhere: behaviour lives in static/js, looks in static/css.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"
# Blueprints whose pages strangers see; everything else is an admin page.
PUBLIC_BLUEPRINTS = {"health", "public"}


def init_app(app: Flask) -> None:
    proxies = app.config.get("TRUSTED_PROXY_COUNT", 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    configure_logging(app)
    # Registered before the blueprints' hooks, so it runs first.
    app.before_request(start_request)
    app.after_request(set_security_headers)
    app.after_request(log_request)


def configure_logging(app: Flask) -> None:
    root = logging.getLogger("formyard")
    if not root.handlers:  # one handler per process, however many apps it builds
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(make_formatter(app.config.get("LOG_FORMAT", "text")))
        root.addHandler(handler)
        root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
        root.propagate = False
        # Our own line replaces the development server's access log.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if app.config.get("LOG_FORMAT") == "json":
        # Flask's logger, where the tracebacks of 500s go, would write text to stderr.
        app.logger.handlers[:] = root.handlers
        app.logger.propagate = False
    else:
        # Its line names the request's path, which the client chose: one line all the same.
        default_handler.setFormatter(
            TextFormatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s")
        )


def start_request() -> None:
    g.request_started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = (
        incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
    )
    if isinstance(request.routing_exception, SecurityError):
        # The Host header is not one of TRUSTED_HOSTS; stop before any other hook runs.
        raise request.routing_exception


# Set on every answer unless a view set its own (a public page's policy names its origins).
DEFAULT_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    # One pass over the headers already set, rather than one per setdefault.
    present = {name.lower() for name, _ in headers.items()}
    for name, value in DEFAULT_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    if request.blueprint not in PUBLIC_BLUEPRINTS:
        headers.setdefault("X-Frame-Options", "DENY")
        if request.endpoint != "static":
            headers["Cache-Control"] = "no-store"
    if request.path.startswith("/api/"):
        headers["Cache-Control"] = "no-store"
    if current_app.config.get("HSTS_ENABLED"):
        headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    if "request_id" in g:
        headers["X-Request-ID"] = g.request_id
    # The rate limiter adds Retry-After to every answer; outside 429 and 503 it would ask
    # clients to wait before following a redirect.
    if response.status_code not in {429, 503}:
        headers.pop("Retry-After", None)
    return response


def log_request(response: Response) -> Response:
    if not log.isEnabledFor(logging.INFO):
        return response
    started = g.get("request_started")
    duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    request_id = g.get("request_id", "-")
    log.info(
        "%s %s %s %.1fms request_id=%s",
        request.method,
        request.path,
        response.status_code,
        duration_ms,
        request_id,
        # Fields of their own in JSON logs (LOG_FORMAT=json).
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(duration_ms, 1),
            "request_id": request_id,
        },
    )
    return response


def safe_next_path(target: str | None) -> str | None:
    """Return ``target`` only when it is a path on this site; anything else (other hosts,
    ``//evil``, ``/\\evil``, schemes) gives None so the caller falls back to a default."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ch in target for ch in "\r\n\t\\") or not target.isprintable():
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
