"""Tokens and contact fields for the API tests, made through the services as a person would
make them; requests carry a Bearer token and no cookie."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken
from app.models import Role
from app.services.accounts import tokens
from app.services.accounts import users
from tests.auth_helpers import PASSWORD

CONTACT_FIELDS: list[dict[str, Any]] = [
    {"key": "name", "type": "short_text", "label": "Name", "required": True},
    {"key": "email", "type": "email", "label": "Email", "required": True},
    {
        "key": "topic",
        "type": "single_choice",
        "label": "Topic",
        "rules": {"choices": ["sales", "support", "press"]},
    },
    {"key": "message", "type": "long_text", "label": "Message"},
    {"key": "cv", "type": "file", "label": "CV"},
]


def make_token(
    app, email: str = "editor@example.com", role: Role = Role.EDITOR, scope: str = "write"
) -> str:
    """A new token of ``scope`` for the user with ``email`` (created with ``role`` if new)."""
    with app.app_context():
        user = users.find_user_by_email(email) or users.create_user(
            email, email.split("@")[0].title(), PASSWORD, role
        )
        return tokens.create_token(user, f"{scope} token", scope)[1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class ApiClient:
    """The test client with a token on every request."""

    def __init__(self, client, token: str) -> None:
        self.client = client
        self.headers = bearer(token)

    def _call(self, method: str, path: str, **kwargs: Any):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return getattr(self.client, method)(f"/api/v1{path}", headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any):
        return self._call("get", path, **kwargs)

    def post(self, path: str, **kwargs: Any):
        return self._call("post", path, **kwargs)

    def patch(self, path: str, **kwargs: Any):
        return self._call("patch", path, **kwargs)

    def delete(self, path: str, **kwargs: Any):
        return self._call("delete", path, **kwargs)


def stored_token(app, token: str) -> ApiToken:
    """The stored row of ``token``, detached, found by its hash as a request finds it."""
    with app.app_context():
        row = db.session.scalar(
            select(ApiToken).where(ApiToken.token_hash == tokens.hash_token(token))
        )
        db.session.expunge(row)
        return row


def error_of(response) -> dict[str, Any]:
    """The API's error body, after checking its shape."""
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]
