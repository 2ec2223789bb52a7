"""Accounts: first owner, sign-in, the owner's user management, and password changes."""

from __future__ import annotations

import secrets
from datetime import UTC
from datetime import datetime
from zoneinfo import available_timezones

from email_validator import EmailNotValidError
from email_validator import validate_email
from sqlalchemy import func
from sqlalchemy import select

from app.exceptions import Conflict
from app.exceptions import NotAllowed
from app.exceptions import NotFound
from app.exceptions import ValidationFailed
from app.extensions import db
from app.models import ActorKind
from app.models import Outcome
from app.models import Role
from app.models import User
from app.services.accounts import throttle
from app.services.accounts.passwords import check_password_rules
from app.services.accounts.passwords import hash_password
from app.services.accounts.passwords import needs_rehash
from app.services.accounts.passwords import verify_password
from app.services.audit.recording import Actor
from app.services.audit.recording import Target
from app.services.audit.recording import record
from app.services.audit.recording import user_actor

SIGN_IN_FAILED = "Email or password is not right."


def any_user_exists() -> bool:
    return db.session.execute(select(User.id).limit(1)).first() is not None


def normalize_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValidationFailed(str(error), field="email", code="invalid_email") from None


def parse_role(role: str | Role) -> Role:
    try:
        return Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise ValidationFailed(f"Role must be one of {choices}.", field="role") from None


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.email)))


def create_user(
    email: str, display_name: str, password: str, role: str | Role, *, must_change: bool = False
) -> User:
    email = normalize_email(email)
    role = parse_role(role)
    display_name = display_name.strip() or email.split("@", 1)[0]
    check_password_rules(password, email=email)
    if find_user_by_email(email):
        raise Conflict("A user with this email already exists.", field="email", code="email_taken")
    user = User(
        email=email,
        display_name=display_name[:100],
        password_hash=hash_password(password),
        role=role,
        must_change_password=must_change,
    )
    db.session.add(user)
    db.session.flush()  # the entry names the user's id
    record("user.created", user, details={"role": role.value})
    db.session.commit()
    return user


def create_owner(email: str, display_name: str, password: str) -> User:
    """The first-run owner; refused once anyone exists, so /setup cannot be replayed."""
    if any_user_exists():
        raise NotAllowed("Formyard is already set up.", code="already_set_up")
    return create_user(email, display_name, password, Role.OWNER)


def invite_user_with_temporary_password(
    email: str, display_name: str, role: str | Role
) -> tuple[User, str]:
    temporary_password = generate_temporary_password()
    user = create_user(email, display_name, temporary_password, role, must_change=True)
    return user, temporary_password


def generate_temporary_password() -> str:
    # Four groups of five, easy to read aloud and type; about 100 bits.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def authenticate(email: str, password: str, address: str) -> User:
    """Return the user for these credentials or raise; failures are counted and throttled."""
    throttle.ensure_login_allowed(email, address)
    user = find_user_by_email(email)
    valid = verify_password(user.password_hash if user else None, password)
    if not valid or user is None or not user.is_active_user:
        throttle.record_login_failure(email, address)
        _record_failed_sign_in(email, user)
        raise ValidationFailed(SIGN_IN_FAILED, code="invalid_credentials")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = datetime.now(UTC)
    record("signin.succeeded", user, actor=user_actor(user))
    db.session.commit()
    return user


def confirm_password(user: User, password: str, address: str) -> None:
    """A signed-in user proves it is still them before a dangerous action; throttled with the
    sign-in's own failures, so this page is no way around their limit."""
    throttle.ensure_login_allowed(user.email, address)
    if not verify_password(user.password_hash, password):
        throttle.record_login_failure(user.email, address)
        raise ValidationFailed(
            "That password is not right.", field="password", code="wrong_password"
        )


def _record_failed_sign_in(email: str, user: User | None) -> None:
    # The typed address is kept (cut short) even when no such user exists: repeated tries
    # at one address are what an owner looks for.
    typed = email.strip().lower()[:200]
    actor = user_actor(user) if user else Actor(ActorKind.USER, None, typed)
    target = user if user else Target("user", None, typed)
    record("signin.failed", target, outcome=Outcome.REFUSED, actor=actor)
    db.session.commit()


def load_user_from_session_id(session_id: str) -> User | None:
    """Flask-Login's loader: the id carries the user's current session token."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not secrets.compare_digest(user.session_token, token):
        return None
    return user


def end_all_sessions(user: User) -> None:
    user.end_all_sessions()
    db.session.commit()


def change_own_password(user: User, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password):
        raise ValidationFailed(
            "Your current password is not right.", field="current_password", code="wrong_password"
        )
    set_password(user, new_password, field="new_password")


def set_password(user: User, new_password: str, *, field: str = "password") -> None:
    check_password_rules(new_password, field=field, email=user.email)
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.end_all_sessions()
    record("user.password_changed", user)
    db.session.commit()


def reset_password(user: User) -> str:
    """The owner resets someone's password; the temporary one is shown once and must be changed."""
    temporary_password = generate_temporary_password()
    user.password_hash = hash_password(temporary_password)
    user.must_change_password = True
    user.end_all_sessions()
    record("user.password_reset", user)
    db.session.commit()
    return temporary_password


def _active_owner_count() -> int:
    query = select(func.count(User.id)).where(User.role == Role.OWNER, User.is_active_user)
    return db.session.scalar(query) or 0


def _ensure_not_last_owner(user: User, message: str) -> None:
    if user.role == Role.OWNER and user.is_active_user and _active_owner_count() <= 1:
        raise NotAllowed(message, code="last_owner")


def change_role(user: User, role: str | Role) -> None:
    role = parse_role(role)
    if role != Role.OWNER:
        _ensure_not_last_owner(
            user, "The last active owner cannot be demoted; promote someone else first."
        )
    if role != user.role:
        record("user.role_changed", user, details={"from": user.role.value, "to": role.value})
    user.role = role
    db.session.commit()


def set_active(user: User, active: bool) -> None:
    if not active:
        _ensure_not_last_owner(user, "The last active owner cannot be deactivated.")
        user.end_all_sessions()
    if active != user.is_active_user:
        record("user.reactivated" if active else "user.deactivated", user)
    user.is_active_user = active
    db.session.commit()


def update_profile(user: User, display_name: str, timezone: str) -> None:
    display_name = display_name.strip()
    if not display_name:
        raise ValidationFailed("Enter a name.", field="display_name")
    if timezone not in available_timezones():
        raise ValidationFailed("Choose a time zone from the list.", field="timezone")
    user.display_name = display_name[:100]
    user.timezone = timezone
    db.session.commit()
