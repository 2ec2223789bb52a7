"""Rate limits per token and per address, their headers on every answer, and the OpenAPI
document with its page."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
import redis
from sqlalchemy.exc import OperationalError

from app import create_app
from app.extensions import limiter
from app.models import Role
from app.security import CONTENT_SECURITY_POLICY
from app.services.accounts import tokens
from tests.api_helpers import CONTACT_FIELDS
from tests.api_helpers import ApiClient
from tests.api_helpers import error_of
from tests.api_helpers import make_token
from tests.database_helpers import require_service
from tests.form_helpers import make_form

STATIC = Path(__file__).resolve().parent.parent / "app" / "static"
RATE_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy")


@pytest.fixture
def api(app, client, owner) -> ApiClient:
    return ApiClient(client, make_token(app, "ed@example.com", Role.EDITOR))


# --- headers -------------------------------------------------------------------------------------


def test_every_answer_carries_the_rate_limit_headers(app, client, api):
    form_id = make_form(app, CONTACT_FIELDS).id
    answers = [
        api.get("/forms"),  # 200
        api.post("/forms", json={"title": "   "}),  # 422
        api.post("/forms", data="{", content_type="application/json"),  # 400
        api.get("/forms/999"),  # 404
        api.post(f"/forms/{form_id}/submissions", json={"answers": {}}),  # 422
        api.delete(f"/forms/{form_id}"),  # 204
        client.get("/api/v1/forms"),  # 401, counted per address
        client.get("/api/v1/openapi.json"),
        client.get("/api/docs"),
    ]
    for response in answers:
        for name in RATE_HEADERS:
            assert name in response.headers, (response.status_code, name)
        assert "X-RateLimit-Limit" in response.headers
        assert "Retry-After" not in response.headers
    first, second = answers[0], answers[1]
    assert first.headers["RateLimit-Limit"] == "600"
    assert first.headers["RateLimit-Policy"] == "600;w=60"
    assert (
        int(second.headers["RateLimit-Remaining"]) == int(first.headers["RateLimit-Remaining"]) - 1
    )
    assert 0 < int(first.headers["RateLimit-Reset"]) <= 60
    assert answers[6].headers["RateLimit-Limit"] == "60"  # no token: the address's budget


# --- limits --------------------------------------------------------------------------------------


def test_a_token_over_its_limit_gets_429_with_retry_after(app, client, api):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    for _ in range(3):
        assert api.get("/forms").status_code == 200
    response = api.get("/forms")
    assert response.status_code == 429
    error = error_of(response)
    assert error["code"] == "rate_limited"
    assert "3 per 1 minute" in error["message"]
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.headers["RateLimit-Remaining"] == "0"
    # Another token has a budget of its own.
    other = ApiClient(client, make_token(app, "other@example.com", Role.VIEWER, "read"))
    assert other.get("/forms").status_code == 200


def test_writes_and_reads_share_one_budget(app, api):
    app.config["API_RATE_LIMIT"] = "2 per minute"
    assert api.post("/forms", json={"title": "One"}).status_code == 201
    assert api.get("/forms").status_code == 200
    assert api.post("/forms", json={"title": "Two"}).status_code == 429


def test_requests_without_a_valid_token_are_limited_per_address(app, client, api):
    app.config["API_ANONYMOUS_RATE_LIMIT"] = "2 per minute"
    guesses = [
        client.get("/api/v1/forms", headers={"Authorization": f"Bearer fy_guess{n}"})
        for n in range(3)
    ]
    assert [response.status_code for response in guesses] == [401, 401, 429]
    from_elsewhere = client.get("/api/v1/forms", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert from_elsewhere.status_code == 401
    assert api.get("/forms").status_code == 200  # a real token is not held back


def test_a_database_outage_answers_503_and_leaves_the_limiters_storage_alone(app, api, monkeypatch):
    def database_down(value, now=None):
        raise OperationalError("SELECT api_tokens", {}, ConnectionRefusedError("refused"))

    # Flask-Limiter takes an error raised while it works out the key for its storage failing,
    # and falls back to per-process counters for every request that follows.
    monkeypatch.setattr(limiter, "_storage_dead", False)
    monkeypatch.setattr(tokens, "authenticate", database_down)
    response = api.get("/forms")
    assert response.status_code == 503
    assert error_of(response)["code"] == "unavailable"
    # At least the site's 5 seconds; Flask-Limiter moves it to the end of its window.
    assert int(response.headers["Retry-After"]) >= 5
    assert "RateLimit-Remaining" in response.headers
    assert limiter._storage_dead is False


def test_limits_are_shared_between_processes_through_redis(app, owner):
    redis_url = require_service("REDIS_URL")
    # A window no other test uses, to find this test's counter among the keys.
    window = random.randint(1000, 9999)
    token = make_token(app, "ed@example.com", Role.EDITOR)
    processes = [
        create_app(
            {
                "APP_ENV": "testing",
                "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                "RATELIMIT_STORAGE_URI": redis_url,
                "API_RATE_LIMIT": f"3 per {window} seconds",
            }
        )
        for _ in range(2)
    ]
    first, second = (ApiClient(process.test_client(), token) for process in processes)
    assert [first.get("/forms").status_code for _ in range(2)] == [200, 200]
    assert second.get("/forms").status_code == 200
    assert second.get("/forms").status_code == 429
    assert first.get("/forms").status_code == 429
    assert redis.Redis.from_url(redis_url).keys(f"*/token:*/api/3/{window}/second")


# --- the document and its page -------------------------------------------------------------------


def test_the_openapi_document_describes_every_operation(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    operations = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "patch", "delete"}
    }
    assert {
        ("GET", "/api/v1/forms"),
        ("POST", "/api/v1/forms"),
        ("GET", "/api/v1/forms/{form_id}"),
        ("PATCH", "/api/v1/forms/{form_id}"),
        ("DELETE", "/api/v1/forms/{form_id}"),
        ("POST", "/api/v1/forms/{form_id}/publish"),
        ("GET", "/api/v1/forms/{form_id}/submissions"),
        ("POST", "/api/v1/forms/{form_id}/submissions"),
        ("GET", "/api/v1/submissions/{submission_id}"),
        ("PATCH", "/api/v1/submissions/{submission_id}"),
        ("DELETE", "/api/v1/submissions/{submission_id}"),
        ("GET", "/api/v1/forms/{form_id}/webhooks"),
        ("POST", "/api/v1/forms/{form_id}/webhooks"),
        ("DELETE", "/api/v1/webhooks/{webhook_id}"),
        ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"),
    } <= operations
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    error = document["components"]["schemas"]["ErrorBody"]
    assert set(error["properties"]) == {"code", "message", "details"}
    listing = document["paths"]["/api/v1/forms/{form_id}/submissions"]["get"]
    assert {"401", "403", "404", "429"} <= set(listing["responses"])
    assert [tag["name"] for tag in document["tags"]] == ["Forms", "Submissions", "Webhooks"]


def test_the_docs_page_uses_vendored_files_and_the_sites_policy(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "/api/v1/openapi.json" in page
    assert "<script>" not in page
    assert "style=" not in page
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources, page
    for source in sources:
        assert source.startswith("/"), f"{source} is not served by us"
        if source.startswith("/static/"):
            assert (STATIC / source.removeprefix("/static/")).is_file(), source
            assert client.get(source).status_code == 200
