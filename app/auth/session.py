"""How a signed-in user is found on each request, and what pages require."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from flask.sessions import SecureCookieSession
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager
from flask_login import current_user

from app.errors import json_error
from app.errors import wants_json
from app.models import Role
from app.services.accounts import users

LOGIN_MESSAGE = "Please sign in to see that page."


def configure_login_manager(login_manager: LoginManager) -> None:
    login_manager.login_view = "auth.login"
    login_manager.user_loader(users.load_user_from_session_id)
    login_manager.unauthorized_handler(_unauthorized)


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, without building the cookie's signer for a request that
    carries no session cookie: every visitor of a public form, on every page and post. Flask's
    own builds it first, which cost a twentieth of the public page."""

    def open_session(self, app, request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def _unauthorized():
    if wants_json():
        return json_error(401, "unauthorized", "Sign in first.")
    flash(LOGIN_MESSAGE, "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def require_role(role: Role) -> Callable[[], Any]:
    """A before_request hook: the whole blueprint needs a signed-in user with at least ``role``."""

    def check() -> Any:
        if not current_user.is_authenticated:
            return _unauthorized()
        if not current_user.can(role):
            abort(403)
        return None

    return check


def role_required(role: Role) -> Callable:
    """The same check for a single view."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            return require_role(role)() or view(*args, **kwargs)

        return wrapped

    return decorator
