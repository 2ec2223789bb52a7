"""The states of signing in kept in the session: halfway (the password is right, the second
step is still to come) and signed in, with the time the person last proved who they are, which
dangerous actions ask to be recent ("sudo mode", as GitHub calls it)."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app
from flask import flash
from flask import redirect
from flask import request
from flask import session
from flask import url_for
from flask_login import current_user
from flask_login import login_user

from app.models import User
from app.services.accounts import users

PROVED_AT_KEY = "proved_at"
PENDING_KEY = "second_step"
# Time to open the authenticator app and type a code; after that, the password again.
PENDING_SECONDS = 5 * 60


def start_signed_in_session(user: User, *, remember: bool = False) -> None:
    """A fresh session cookie for ``user``, who just proved who they are."""
    session.clear()
    login_user(user, remember=remember)
    mark_proved()


def mark_proved() -> None:
    session[PROVED_AT_KEY] = int(time.time())


def proved_recently() -> bool:
    proved_at = session.get(PROVED_AT_KEY)
    window = current_app.config["FRESH_SIGN_IN_MINUTES"] * 60
    return isinstance(proved_at, int) and 0 <= time.time() - proved_at < window


def begin_second_step(user: User, *, remember: bool, next_path: str | None) -> None:
    """Remember, for a few minutes, whose password was right. Nobody is signed in yet: the
    session holds no Flask-Login user, so no page opens until the second step is done."""
    session.clear()
    session[PENDING_KEY] = {
        "user_id": user.id,
        # Ends the halfway state too when the user's sessions end (password or factor change).
        "session_token": user.session_token,
        "remember": bool(remember),
        "next": next_path,
        "until": int(time.time()) + PENDING_SECONDS,
    }


def pending_second_step() -> tuple[User, dict[str, Any]] | None:
    """The user halfway through signing in and their choices, or None when there is none (or
    it expired, or their sessions ended meanwhile)."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        return None
    user = users.load_user_from_session_id(
        f"{pending.get('user_id')}:{pending.get('session_token')}"
    )
    if user is None or not user.is_active_user:
        return None
    return user, pending


def fresh_sign_in_required(then: Callable[..., str] | None = None) -> Callable:
    """A view decorator: a dangerous action needs the password or a second-step code given in
    the last FRESH_SIGN_IN_MINUTES.

    Otherwise a GET is sent to confirm and then back to the same address. A POST cannot be
    replayed safely, so after confirming the person returns to the page with its form
    (``then(**view_args)``, by default the same address) and sends it again.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated or proved_recently():
                return view(*args, **kwargs)
            if request.method == "GET":
                back = request.full_path.rstrip("?")
            else:
                back = then(**kwargs) if then else request.path
                flash("Confirm it is you, then do that again.", "info")
            return redirect(url_for("auth.confirm_access", next=back), 303)

        return wrapped

    return decorator
