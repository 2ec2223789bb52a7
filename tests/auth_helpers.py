"""People for the tests: users made through the service, and signing in and posting the way a
browser does, CSRF token included."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from app.extensions import db
from app.models import Role
from app.models import User
from app.services.accounts import users

OWNER_EMAIL = "owner@example.com"
PASSWORD = "correct horse battery staple"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def make_user(app, email: str, role: Role = Role.EDITOR, password: str = PASSWORD) -> int:
    """Create a user through the service and return their id."""
    with app.app_context():
        return users.create_user(email, email.split("@")[0].title(), password, role).id


def fetch_user(app, email: str) -> User:
    """The stored user, detached from any session, for assertions."""
    with app.app_context():
        user = users.find_user_by_email(email)
        if user is not None:
            db.session.expunge(user)
        return user


def csrf_token_from(response) -> str:
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, "page has no CSRF token"
    return match.group(1)


class AuthActions:
    """Sign in and out the way a browser does, CSRF token included."""

    def __init__(self, client):
        self._client = client

    def csrf_token(self) -> str:
        return csrf_token_from(self._client.get("/login", follow_redirects=True))

    def post(self, path: str, data: dict | None = None, **kwargs):
        data = {"csrf_token": self.csrf_token(), **(data or {})}
        return self._client.post(path, data=data, **kwargs)

    def login(self, email: str = OWNER_EMAIL, password: str = PASSWORD, remember: bool = False):
        data = {"email": email, "password": password}
        if remember:
            data["remember"] = "y"
        return self.post("/login", data)

    def logout(self):
        return self.post("/logout")


def sign_in(
    app, role: Role | str = Role.OWNER, *, email: str | None = None, timezone: str | None = None
) -> FlaskClient:
    """A new client signed in through the sign-in page as a user with ``role``.

    The user is ``email``, by default OWNER_EMAIL for the owner (the ``owner`` fixture's user)
    and ``<role>@example.com`` for the others; made through the service unless they exist
    already. ``timezone`` sets their time zone before they sign in. Tests take it as the
    ``signed_in`` fixture; this function is for an app a test builds itself.
    """
    role = Role(role)
    email = email or (OWNER_EMAIL if role == Role.OWNER else f"{role.value}@example.com")
    existing = fetch_user(app, email)
    if existing is None:
        make_user(app, email, role)
    elif existing.role != role:
        raise ValueError(f"{email} exists already as {existing.role.value}, not {role.value}")
    if timezone is not None:
        with app.app_context():
            users.find_user_by_email(email).timezone = timezone
            db.session.commit()
    client = app.test_client()
    signed = AuthActions(client).login(email)
    assert signed.status_code == 303, f"{email} could not sign in"
    return client
