"""Static files through WhiteNoise: far-future caching for names that carry their content's
hash, gzip and Brotli copies made at build time (``python -m whitenoise.compress app/static``).

In production, ``url_for("static", filename="css/app.css")`` gives
``/static/css/app.<hash>.css``: that name changes whenever the file does, so browsers may keep
it for a year. The plain name still works (embed snippets on other sites use it, and so do
relative imports between modules) with a short lifetime. In development Flask serves the files.
"""

from __future__ import annotations

import functools
import hashlib
import os
from typing import Any

from flask import Flask
from whitenoise import WhiteNoise

from app.security import STRICT_TRANSPORT_SECURITY

# For names without a hash: long enough to spare a page's repeat requests, short enough that a
# deploy reaches everyone within minutes.
PLAIN_NAME_MAX_AGE = 600
HASH_LENGTH = 12


class HashedStaticFiles(WhiteNoise):
    """WhiteNoise that also answers every file at its hashed name, marked immutable."""

    def __init__(self, application: Any, root: str, prefix: str, *, hsts: bool) -> None:
        self.prefix = "/" + prefix.strip("/") + "/"
        self.hashed_names: dict[str, str] = {}
        self.hashed_urls: set[str] = set()
        super().__init__(
            application,
            root=root,
            prefix=prefix,
            max_age=PLAIN_NAME_MAX_AGE,
            add_headers_function=add_hsts_and_security_headers if hsts else add_security_headers,
        )

    def add_file_to_dictionary(self, url: str, path: str, stat_cache: Any = None) -> None:
        super().add_file_to_dictionary(url, path, stat_cache=stat_cache)
        if self.is_compressed_variant(path, stat_cache=stat_cache):
            return
        name = url.removeprefix(self.prefix)
        stat = stat_cache[path] if stat_cache else os.stat(path)
        hashed = hashed_name(name, file_digest(path, stat.st_mtime_ns, stat.st_size))
        self.hashed_names[name] = hashed
        self.hashed_urls.add(self.prefix + hashed)
        super().add_file_to_dictionary(self.prefix + hashed, path, stat_cache=stat_cache)

    def immutable_file_test(self, path: str, url: str) -> bool:
        return url in self.hashed_urls


def init_app(app: Flask) -> None:
    """Serve ``app.static_folder`` with WhiteNoise, except in development, where Flask serves
    it so edits show at once (WhiteNoise reads the folder once, at start)."""
    if app.config["APP_ENV"] == "development" or not app.static_folder:
        return
    hsts = bool(app.config.get("HSTS_ENABLED"))
    files = HashedStaticFiles(app.wsgi_app, root=app.static_folder, prefix="static/", hsts=hsts)
    app.wsgi_app = files  # type: ignore[method-assign]
    # Tests keep the plain names, which they look up on disk.
    if app.config["APP_ENV"] == "production":

        @app.url_defaults
        def use_hashed_static_names(endpoint: str, values: dict[str, Any]) -> None:
            if endpoint == "static" and "filename" in values:
                values["filename"] = files.hashed_names.get(values["filename"], values["filename"])


def add_security_headers(headers: Any, path: str, url: str) -> None:
    # These answers never reach Flask's after_request hooks.
    headers["X-Content-Type-Options"] = "nosniff"


def add_hsts_and_security_headers(headers: Any, path: str, url: str) -> None:
    # A browser whose first request is for a file learns HTTPS-only from it too.
    add_security_headers(headers, path, url)
    headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY


@functools.cache
def file_digest(path: str, mtime_ns: int, size: int) -> str:
    """The start of the file's SHA-256; kept per process, since every app built reads it."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()[:HASH_LENGTH]


def hashed_name(name: str, digest: str) -> str:
    """``css/app.css`` -> ``css/app.<digest>.css``."""
    folder, _, filename = name.rpartition("/")
    stem, dot, extension = filename.rpartition(".")
    hashed = f"{stem}.{digest}.{extension}" if dot and stem else f"{filename}.{digest}"
    return f"{folder}/{hashed}" if folder else hashed
