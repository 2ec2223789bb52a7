"""Counting failed logins per account and per address in the rate limiter's storage.

The storage is Redis when ``REDIS_URL`` is set, so every process shares the counts; otherwise
memory. Only failures are counted, and a throttled key stays throttled even for a correct
password until the window has passed.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from functools import lru_cache

from flask import current_app
from limits import parse
from limits.storage import Storage
from limits.strategies import STRATEGIES
from limits.strategies import RateLimiter

from app.exceptions import Throttled
from app.extensions import limiter

log = logging.getLogger(__name__)


class StorageOutage:
    """Logs an outage of the limiter's storage once when it begins and once when it ends.

    The submission limit fails open while Redis is down; a warning per request would flood the
    log (and slow every request) for as long as the outage lasts. State is per process.
    """

    def __init__(self) -> None:
        self.down = False
        self._lock = threading.Lock()

    def failed(self) -> None:
        with self._lock:
            if self.down:
                return
            self.down = True
        log.warning(
            "rate limit storage unavailable; submissions are not limited until it is back",
            exc_info=True,
        )

    def succeeded(self) -> None:
        if not self.down:  # read without the lock: the usual case costs nothing
            return
        with self._lock:
            if not self.down:
                return
            self.down = False
        log.warning("rate limit storage is back; submissions are limited again")


submission_storage = StorageOutage()


def shared_counter() -> RateLimiter:
    """The rate limiter's strategy on its configured storage (Redis when set).

    Not ``limiter.limiter``: once any of Flask-Limiter's own checks fails, that switches every
    caller to per-process memory until a later limited request finds the storage back, which a
    process serving only form posts never makes. Here each call meets the real storage, and
    failures are handled by the callers.
    """
    return _strategy_on(
        current_app.config.get("RATELIMIT_STRATEGY", "fixed-window"), limiter.storage
    )


@lru_cache(maxsize=8)
def _strategy_on(strategy: str, storage: Storage) -> RateLimiter:
    return STRATEGIES[strategy](storage)


# What failed: a password ("login"), or a second step's code (counted apart, so a stolen
# password cannot be used to lock its owner out of the password form, nor the reverse).
LOGIN = "login"
SECOND_STEP = "second-step"


def _keys(email: str, address: str, kind: str) -> list[str]:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    return [
        f"{prefix}{kind}-failures/account/{digest}",
        f"{prefix}{kind}-failures/address/{address}",
    ]


def _limit():
    return parse(current_app.config["LOGIN_FAILURE_LIMIT"])


def ensure_login_allowed(email: str, address: str, kind: str = LOGIN) -> None:
    """Raise Throttled when this account or this address has failed too often lately."""
    limit = _limit()
    try:
        for key in _keys(email, address, kind):
            if not shared_counter().test(limit, key):
                reset_at, _remaining = shared_counter().get_window_stats(limit, key)
                retry_after = max(1, int(reset_at - time.time()))
                minutes = max(1, round(retry_after / 60))
                raise Throttled(
                    f"Too many failed sign-in attempts. Try again in about {minutes} minute"
                    f"{'s' if minutes != 1 else ''}.",
                    retry_after=retry_after,
                )
    except Throttled:
        raise
    except Exception:  # storage down: let people in rather than lock everyone out
        log.warning("login throttle storage unavailable; not throttling", exc_info=True)


def record_login_failure(email: str, address: str, kind: str = LOGIN) -> None:
    limit = _limit()
    try:
        for key in _keys(email, address, kind):
            shared_counter().hit(limit, key)
    except Exception:
        log.warning("login throttle storage unavailable; failure not counted", exc_info=True)


def ensure_submission_allowed(address: str, form_slug: str) -> int | None:
    """Count a submission from ``address`` to the form; raise Throttled over the form limit.
    Return how many more the window allows (a spam signal when few), None if unknown.

    Checked here rather than by a route decorator: two storage calls on the hottest path.
    When the storage is down, submissions are still accepted (the outage is logged once).
    """
    limit = parse(current_app.config["SUBMISSION_RATE_LIMIT"])
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    key = f"{prefix}submissions/{form_slug}/{address}"
    try:
        allowed = shared_counter().hit(limit, key)
        reset_at, remaining = shared_counter().get_window_stats(limit, key)
    except Exception:
        submission_storage.failed()
        return None
    if allowed:
        submission_storage.succeeded()
        return remaining
    submission_storage.succeeded()
    raise Throttled(
        "Too many requests. Please wait a moment and try again.",
        retry_after=max(1, int(reset_at - time.time())),
    )
