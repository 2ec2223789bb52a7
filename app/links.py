"""Absolute links for emails and webhook bodies, built from BASE_URL.

Emails are rendered during a request and sent by a worker, so links never come from the
request's Host header: BASE_URL is the address people use.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import BuildError


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` under BASE_URL; works without a request."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=True)


def external_url_or_none(endpoint: str, **values: Any) -> str | None:
    """Like ``external_url``, or None while the page it names does not exist in this build."""
    try:
        return external_url(endpoint, **values)
    except BuildError:
        return None
