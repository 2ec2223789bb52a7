"""Two-step verification with an authenticator app (TOTP, RFC 6238): setting it up, checking
its codes at sign-in, turning it off, and the methods a user can use for the second step.

Every change to a user's second factor ends all their sessions and remember-me cookies, as a
password change does; the page that made the change signs its own session in again.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC
from datetime import datetime

import pyotp
import segno
from sqlalchemy import or_
from sqlalchemy import update

from app.exceptions import NotAllowed
from app.exceptions import ValidationFailed
from app.extensions import db
from app.models import User
from app.services.accounts import recovery_codes
from app.services.accounts import secret_box
from app.services.accounts import throttle
from app.services.accounts.two_step_policy import requires_two_step
from app.services.audit.recording import record

ISSUER = "Formyard"
STEP_SECONDS = 30  # RFC 6238's default, which every authenticator app uses
CODE_DIGITS = 6
# A code of the step before or after the server's is accepted too: phones' clocks drift, and
# people type a code in the seconds after it changes.
ACCEPTED_DRIFT_STEPS = 1
AUTHENTICATOR = "authenticator"
WRONG_CODE = "That code is not right, or was used already. Enter the newest code from your app."


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_code_svg(uri: str) -> str:
    """The QR code an authenticator app scans, as inline SVG made here: the secret it carries
    never goes to a third-party service."""
    code = segno.make(uri, error="m")
    svg = code.svg_inline(
        scale=5,
        dark="#000",
        light="#fff",
        omitsize=True,  # a viewBox instead of a fixed size, so it shrinks on a narrow screen
        title="QR code for your authenticator app",
        svgclass="qr-code",
    )
    return svg.replace("<svg ", '<svg role="img" ', 1)  # so screen readers read its title


def format_secret(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def methods_of(user: User) -> list[str]:
    """The second-step methods ``user`` has set up; empty when they sign in with a password only.
    Recovery codes are a fallback of these, not a method of their own."""
    return [AUTHENTICATOR] if user.has_authenticator_app else []


def uses_two_step(user: User) -> bool:
    return bool(methods_of(user))


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The time-step whose code is ``code``, within the accepted drift, or None."""
    code = "".join(code.split())
    if len(code) != CODE_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in range(current - ACCEPTED_DRIFT_STEPS, current + ACCEPTED_DRIFT_STEPS + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _refuse(user: User, address: str, field: str) -> ValidationFailed:
    throttle.record_login_failure(user.email, address, throttle.SECOND_STEP)
    return ValidationFailed(WRONG_CODE, field=field, code="wrong_code")


def enable_authenticator(
    user: User, secret: str, code: str, address: str, now: float | None = None
) -> list[str]:
    """Turn the app on once it proved to hold ``secret`` by a first code; return the new
    recovery codes, which the caller shows once."""
    throttle.ensure_login_allowed(user.email, address, throttle.SECOND_STEP)
    step = _matching_step(secret, code, time.time() if now is None else now)
    if step is None:
        raise _refuse(user, address, "code")
    user.totp_secret_encrypted = secret_box.encrypt(secret)
    user.totp_last_step = step
    user.totp_enabled_at = datetime.now(UTC)
    codes = recovery_codes.replace_codes(user)
    user.end_all_sessions()
    record("two_step.enabled", user, details={"method": AUTHENTICATOR})
    db.session.commit()
    return codes


def verify_code(
    user: User, code: str, address: str, *, field: str = "code", now: float | None = None
) -> None:
    """Accept a code from ``user``'s app once, or raise; failures are throttled like passwords."""
    throttle.ensure_login_allowed(user.email, address, throttle.SECOND_STEP)
    if not user.has_authenticator_app:
        raise _refuse(user, address, field)
    try:
        secret = secret_box.decrypt(user.totp_secret_encrypted)
    except secret_box.SecretUnreadable:
        raise _refuse(user, address, field) from None
    step = _matching_step(secret, code, time.time() if now is None else now)
    if step is None:
        raise _refuse(user, address, field)
    # Only a step later than the last one accepted: the same code, or an older one seen over a
    # shoulder, never signs in twice. One UPDATE, so two requests racing cannot both pass.
    accepted = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
    )
    db.session.commit()
    if accepted.rowcount != 1:
        raise _refuse(user, address, field)


def disable_authenticator(user: User) -> None:
    """Turn the app off, with the recovery codes; refused while the policy requires it."""
    if requires_two_step(user) and methods_of(user) == [AUTHENTICATOR]:
        raise NotAllowed(
            "Two-step verification is required for your role on this site, so it cannot be "
            "turned off. Set up the app again on a new phone instead.",
            code="two_step_required",
        )
    reset_two_step(user)


def reset_two_step(user: User) -> None:
    """Remove every second factor of ``user`` and end their sessions: for the owner who lost
    their phone and their recovery codes (``flask users reset-2fa``)."""
    user.totp_secret_encrypted = None
    user.totp_last_step = None
    user.totp_enabled_at = None
    recovery_codes.delete_codes(user)
    user.end_all_sessions()
    record("two_step.removed", user)
    db.session.commit()


def regenerate_recovery_codes(user: User) -> list[str]:
    """New recovery codes; the old ones stop working, and so do the user's other sessions."""
    if not uses_two_step(user):
        raise NotAllowed("Set up two-step verification first.", code="two_step_off")
    codes = recovery_codes.replace_codes(user)
    user.end_all_sessions()
    record("two_step.recovery_codes_renewed", user, details={"count": len(codes)})
    db.session.commit()
    return codes
