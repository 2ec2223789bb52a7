"""Emailed links that let a person choose a password: a reset (one hour) and an invitation
(seven days).

A link is signed with SECRET_KEY and names the user and a fingerprint of their account (the
password hash among it). Setting a password changes the hash, so each link works once; a new
invitation rotates the placeholder hash, so the older link stops working.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from flask import render_template
from itsdangerous import BadSignature
from itsdangerous import TimestampSigner
from itsdangerous import URLSafeTimedSerializer
from limits import parse

from app.exceptions import Conflict
from app.exceptions import Throttled
from app.exceptions import ValidationFailed
from app.extensions import db
from app.links import external_url
from app.models import DeliveryKind
from app.models import DeliveryTrigger
from app.models import Role
from app.models import User
from app.models.types import utcnow
from app.services.accounts import users
from app.services.accounts.passwords import hash_password
from app.services.accounts.throttle import shared_counter
from app.services.audit.recording import record
from app.services.delivery import outbox
from app.services.delivery.mail import email_payload

log = logging.getLogger("formyard.accounts")

RESET_LIFETIME = timedelta(hours=1)
INVITATION_LIFETIME = timedelta(days=7)
RESET_SALT = "formyard.password-reset"
INVITATION_SALT = "formyard.invitation"
# A reset link is worth sending only while it works: tries over about a quarter of an hour.
RESET_MAX_ATTEMPTS = 6
LINK_INVALID = "This link is not valid any more. Links work once, and only for a while."

# Seconds since the epoch; tests replace it to step past a link's lifetime.
clock: Callable[[], float] = time.time


class LinkInvalid(ValidationFailed):
    code = "link_invalid"


class _ClockSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(clock())


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=salt, signer=_ClockSigner)


def _fingerprint(user: User) -> str:
    state = (
        f"{user.id}|{user.email}|{user.password_hash}|{user.last_login_at}|{user.is_active_user}"
    )
    return hashlib.sha256(state.encode()).hexdigest()[:32]


def make_token(user: User, salt: str) -> str:
    return _serializer(salt).dumps([user.id, _fingerprint(user)])


def user_for_token(token: str, salt: str, lifetime: timedelta) -> User:
    """The active user a link names, while it is young enough and their account unchanged."""
    try:
        user_id, fingerprint = _serializer(salt).loads(token, max_age=lifetime.total_seconds())
    except (BadSignature, ValueError, TypeError):
        raise LinkInvalid(LINK_INVALID) from None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active_user:
        raise LinkInvalid(LINK_INVALID)
    if not secrets.compare_digest(_fingerprint(user), str(fingerprint)):
        raise LinkInvalid(LINK_INVALID)
    return user


# --- password reset ----------------------------------------------------------------------------


def request_password_reset(email: str, address: str) -> None:
    """Email a reset link if ``email`` belongs to an active user. The caller answers the same
    either way, so the page does not tell who has an account."""
    _count_reset_request(email, address)
    user = users.find_user_by_email(email)
    if user is None or not user.is_active_user:
        log.info("password reset asked for an unknown or inactive address")
        return
    link = external_url("auth.reset_password", token=make_token(user, RESET_SALT))
    context = {"user": user, "link": link, "hours": 1}
    _queue_account_email(
        user,
        "password_reset",
        "Reset your Formyard password",
        context,
        max_attempts=RESET_MAX_ATTEMPTS,
    )
    db.session.commit()


def _count_reset_request(email: str, address: str) -> None:
    """PASSWORD_RESET_LIMIT per address and per account (known or not)."""
    limit = parse(current_app.config["PASSWORD_RESET_LIMIT"])
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    keys = [f"{prefix}password-reset/account/{digest}", f"{prefix}password-reset/address/{address}"]
    try:
        for key in keys:
            if not shared_counter().hit(limit, key):
                reset_at, _remaining = shared_counter().get_window_stats(limit, key)
                retry_after = max(1, int(reset_at - time.time()))
                raise Throttled(
                    "Too many reset requests. Wait a while, then try again.",
                    retry_after=retry_after,
                )
    except Throttled:
        raise
    except Exception:  # storage down: let the request through rather than lock everyone out
        log.warning("reset throttle storage unavailable; not throttling", exc_info=True)


def user_for_reset(token: str) -> User:
    return user_for_token(token, RESET_SALT, RESET_LIFETIME)


def reset_password_with_token(token: str, new_password: str) -> User:
    """Set the password a reset link allows; ends every session of the user."""
    user = user_for_reset(token)
    users.set_password(user, new_password)
    return user


# --- invitations -------------------------------------------------------------------------------


def invite_user(email: str, display_name: str, role: str | Role, invited_by: User) -> User:
    """A new user with no usable password, and the email inviting them to choose one, in one
    transaction."""
    email = users.normalize_email(email)
    role = users.parse_role(role)
    if users.find_user_by_email(email):
        raise Conflict("A user with this email already exists.", field="email", code="email_taken")
    user = User(
        email=email,
        display_name=(display_name.strip() or email.split("@", 1)[0])[:100],
        password_hash=_unusable_password_hash(),
        role=role,
        must_change_password=True,
    )
    db.session.add(user)
    db.session.flush()
    _queue_invitation(user, invited_by)
    record("user.invited", user, details={"role": role.value})
    db.session.commit()
    return user


def resend_invitation(user: User, invited_by: User) -> None:
    """A new invitation for someone who has not chosen a password yet (invited, or given a
    temporary one they have not used); older links and the temporary password stop working."""
    if not awaits_first_sign_in(user) or user.id == invited_by.id:
        raise ValidationFailed(
            f"{user.email} has chosen a password already; reset it instead.",
            code="already_joined",
        )
    user.password_hash = _unusable_password_hash()
    user.must_change_password = True
    _queue_invitation(user, invited_by)
    record("user.invited_again", user)
    db.session.commit()


def awaits_first_sign_in(user: User) -> bool:
    return user.is_active_user and user.must_change_password and user.last_login_at is None


def _unusable_password_hash() -> str:
    # Nobody knows this password; the invitation link is the only way in.
    return hash_password(secrets.token_urlsafe(32))


def _queue_invitation(user: User, invited_by: User) -> None:
    link = external_url("auth.accept_invitation", token=make_token(user, INVITATION_SALT))
    context = {"user": user, "link": link, "invited_by": invited_by, "days": 7}
    _queue_account_email(user, "invitation", "You are invited to Formyard", context)


def user_for_invitation(token: str) -> User:
    user = user_for_token(token, INVITATION_SALT, INVITATION_LIFETIME)
    if user.last_login_at is not None:
        raise LinkInvalid(LINK_INVALID)
    return user


def accept_invitation(token: str, new_password: str) -> User:
    """Set the invited user's first password; they are signed in by the caller."""
    user = user_for_invitation(token)
    users.set_password(user, new_password)
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def _queue_account_email(
    user: User,
    template: str,
    subject: str,
    context: dict,
    *,
    max_attempts: int = outbox.MAX_ATTEMPTS,
) -> None:
    text = render_template(f"email/{template}.txt", **context)
    html = render_template(f"email/{template}.html", **context)
    payload = email_payload(user.email, subject, text, html)
    payload["sensitive"] = True  # holds a sign-in link: emptied once settled
    outbox.queue(
        DeliveryKind.EMAIL,
        payload,
        event=template,
        trigger=DeliveryTrigger.ACCOUNT,
        max_attempts=max_attempts,
    )
