"""The default rate-limit storage without Redis."""

import threading
import time

from limits import parse
from limits.strategies import FixedWindowRateLimiter

from app.ratelimit import SweepingMemoryStorage


def test_counts_and_limits_like_memory_storage():
    limiter = FixedWindowRateLimiter(SweepingMemoryStorage())
    limit = parse("3 per minute")
    assert [limiter.hit(limit, "address") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(limit, "another address")


def test_expired_counts_are_forgotten():
    storage = SweepingMemoryStorage()
    limiter = FixedWindowRateLimiter(storage)
    limit = parse("1 per second")
    assert limiter.hit(limit, "key")
    assert not limiter.hit(limit, "key")
    time.sleep(1.1)
    assert limiter.hit(limit, "key")


def test_hits_start_no_thread_of_their_own():
    limiter = FixedWindowRateLimiter(SweepingMemoryStorage())
    limit = parse("1000 per minute")
    before = threading.active_count()
    for number in range(50):
        limiter.hit(limit, f"key-{number}")
    assert threading.active_count() <= before
