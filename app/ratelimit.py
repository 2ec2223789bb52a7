"""Rate-limit storage for a single server without Redis, and keeping Flask-Limiter's
per-request hooks off the blueprints that count their own limits.

The ``limits`` library's ``memory://`` storage starts a new timer thread on nearly every hit
to sweep expired keys; on the submission path that thread costs more than the count itself.
This one sweeps with one long-lived thread per storage instead. Counts stay per process, as
with ``memory://``; set ``REDIS_URL`` to share them between processes.
"""

from __future__ import annotations

import functools
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask import request
from flask_limiter import Limiter
from limits.storage import MemoryStorage

SWEEP_SECONDS = 1.0


class SweepingMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = ["formyard-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        reference = weakref.ref(self)
        threading.Thread(target=_sweep, args=(reference,), daemon=True).start()

    # Called by MemoryStorage on each hit (name-mangled there); the sweeper thread does it.
    def _MemoryStorage__schedule_expiry(self) -> None:
        return None


def _sweep(reference: weakref.ref[SweepingMemoryStorage]) -> None:
    while True:
        time.sleep(SWEEP_SECONDS)
        storage = reference()
        if storage is None:
            return
        storage._MemoryStorage__expire_events()
        del storage


def keep_limiter_off(app: Flask, limiter: Limiter, blueprint: str) -> None:
    """Skip Flask-Limiter's before, after and teardown hooks on ``blueprint``'s requests.

    A request filter would make the limiter skip its limits, but only after its hooks have
    looked up the endpoint, the limits and the headers on every request: on the public form
    page, the busiest of all, that was a seventh of the time. The public blueprint counts its
    posts itself (services.accounts.throttle) and limits nothing else.
    """

    def skipped_on_blueprint(hook: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(hook)
        def hook_elsewhere(*args: Any) -> Any:
            if request.blueprint == blueprint:
                return args[0] if args else None  # an after_request hook hands back the response
            return hook(*args)

        return hook_elsewhere

    found = 0
    for hooks in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        functions = hooks.get(None, [])
        for index, function in enumerate(functions):
            if _belongs_to(function, limiter):
                functions[index] = skipped_on_blueprint(function)
                found += 1
    if found != 3:  # Flask-Limiter changed how it hooks in: look again before upgrading it
        raise RuntimeError(f"expected Flask-Limiter's 3 request hooks, found {found}")


def _belongs_to(function: Callable[..., Any], limiter: Limiter) -> bool:
    if getattr(function, "__self__", None) is limiter:  # a bound method
        return True
    return isinstance(function, functools.partial) and limiter in function.args
