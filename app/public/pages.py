"""Rendering a respondent's page once per published version and serving it from memory."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from threading import Lock

from flask import current_app
from flask import render_template
from werkzeug.datastructures import MultiDict
from wtforms import Form as WTForm

from app.extensions import db
from app.fields import FieldError
from app.fields import needs_multipart
from app.fields import prefill_data
from app.models import Form
from app.models import FormVersion
from app.services.submissions import specs_for
from app.services.submissions import version_form_class
from app.services.submissions import version_specs

TOKEN_PLACEHOLDER = "__FORMYARD_ONE_TIME_TOKEN__"  # noqa: S105 (replaced per request)
TOKEN_MAX_AGE = 7 * 24 * 3600
_cache: OrderedDict[tuple, str] = OrderedDict()
_cache_lock = Lock()
CACHE_SIZE = 256


def new_page_token(form: Form) -> str:
    """A signed one-time token, ``<nonce>.<time>.<signature>``; a double click posts it twice
    and the second is recognised. Made on every page view, so it is kept cheap."""
    nonce = secrets.token_urlsafe(12)
    issued = str(int(time.time()))
    return f"{nonce}.{issued}.{_signature(form.id, nonce, issued)}"


def idempotency_key_from_token(form: Form, token: str | None) -> str | None:
    """The key that makes a repeated post of this page a duplicate; None for a token that is
    missing, forged, for another form, or older than a week."""
    parts = (token or "").split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    nonce, issued, signature = parts
    if not hmac.compare_digest(signature, _signature(form.id, nonce, issued)):
        return None
    if time.time() - int(issued) > TOKEN_MAX_AGE:
        return None
    return f"page:{nonce}"


def _signature(form_id: int, nonce: str, issued: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = f"formyard.page-token:{form_id}:{nonce}:{issued}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def render_form_page(
    form: Form,
    *,
    embedded: bool,
    action: str,
    query: MultiDict | None = None,
    bound: WTForm | None = None,
    errors: list[FieldError] | None = None,
) -> str:
    """The page with a fresh token. A plain page (no prefill, no errors) is rendered once per
    version and settings and then served from memory; only the token changes per request."""
    version_id = form.published_version_id
    plain = bound is None and not errors and not (query and _prefills(version_id, query))
    key = (version_id, form.id, form.updated_at, embedded, action)
    html = _cache.get(key) if plain else None
    if html is None:
        version = db.session.get(FormVersion, version_id)
        html = _render(form, version, embedded, action, query, bound, errors or [])
        if plain:
            _remember(key, html)
    return html.replace(TOKEN_PLACEHOLDER, new_page_token(form), 1)


def _prefills(version_id: int, query: MultiDict) -> bool:
    return bool(prefill_data(version_specs(version_id), query))


def _render(form, version, embedded, action, query, bound, errors) -> str:
    specs = specs_for(version)
    if bound is None:
        bound = version_form_class(version.id)(data=prefill_data(specs, query or MultiDict()))
    return render_template(
        "public/form.html",
        form=form,
        version=version,
        specs=specs,
        respondent_form=bound,
        errors=errors,
        labels={spec.key: spec.label for spec in specs},
        first_error=errors[0].key if errors else None,
        action=action,
        token=TOKEN_PLACEHOLDER,
        multipart=needs_multipart(specs),
        submit_label=form.submit_label,
        embedded=embedded,
        preview=False,
    )


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _remember(key: tuple, html: str) -> None:
    with _cache_lock:
        _cache[key] = html
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
