"""The default rate-limit storage without Redis, and Flask-Limiter kept off public pages."""

import threading
import time

from flask import request
from flask_limiter import Limiter
from limits import parse
from limits.strategies import FixedWindowRateLimiter

from app.ratelimit import SweepingMemoryStorage
from tests.form_helpers import make_form
from tests.public_helpers import CONTACT_ANSWERS
from tests.public_helpers import CONTACT_FIELDS


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


def test_the_limiter_runs_on_admin_and_api_requests_but_not_on_public_ones(app, owner, monkeypatch):
    checked: list[str] = []
    identify = Limiter.identify_request

    def recording(self):
        checked.append(request.path)
        return identify(self)

    monkeypatch.setattr(Limiter, "identify_request", recording)
    slug = make_form(app, CONTACT_FIELDS, slug="contact").slug
    client = app.test_client()
    assert client.get(f"/f/{slug}").status_code == 200
    assert client.post(f"/f/{slug}", data=CONTACT_ANSWERS).status_code == 303
    assert client.get("/login").status_code == 200
    api = client.get("/api/v1/forms")
    assert api.status_code == 401
    assert "RateLimit-Limit" in api.headers  # the API's budget is still counted and shown
    assert checked == ["/login", "/api/v1/forms"]
