"""Writing audit entries: who is acting (the request's user or token, or the system), and
``record``, which adds an entry to the current transaction so it commits with the change."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from flask import g
from flask import has_request_context
from flask import request
from flask_login import current_user

from app.extensions import db
from app.models import ActorKind
from app.models import ApiToken
from app.models import AuditEntry
from app.models import Form
from app.models import Outcome
from app.models import User
from app.models import WebhookEndpoint

# Details hold ids, counts, names of settings and roles: short words, never answers.
MAX_DETAIL_TEXT = 100


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    user_id: int | None
    label: str


SYSTEM = Actor(ActorKind.SYSTEM, None, "system")
_acting_as: ContextVar[Actor | None] = ContextVar("formyard_audit_actor", default=None)


def user_actor(user: User) -> Actor:
    return Actor(ActorKind.USER, user.id, _user_label(user))


def token_actor(token: ApiToken) -> Actor:
    label = f"{_user_label(token.user)} with token {token.name} ({token.prefix})"
    return Actor(ActorKind.TOKEN, token.user_id, label)


def system_actor(label: str) -> Actor:
    return Actor(ActorKind.SYSTEM, None, label)


def _user_label(user: User) -> str:
    return f"{user.display_name} <{user.email}>"


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    """Record what happens inside the block as done by ``actor`` (the worker, a command)."""
    reset_token = _acting_as.set(actor)
    try:
        yield
    finally:
        _acting_as.reset(reset_token)


def current_actor() -> Actor:
    """Who is acting: set by ``acting_as``, else the request's API token or signed-in user,
    else the system."""
    chosen = _acting_as.get()
    if chosen is not None:
        return chosen
    if has_request_context():
        token = g.get("api_token")
        if isinstance(token, ApiToken):
            return token_actor(token)
        if current_user.is_authenticated:
            return user_actor(current_user)
    return SYSTEM


@dataclass(frozen=True)
class Target:
    kind: str
    id: str | None
    label: str
    form_id: int | None = None


def target_of(thing: Any) -> Target:
    """What an entry is about, with the label it keeps when the thing is gone."""
    if isinstance(thing, Target):
        return thing
    if isinstance(thing, User):
        return Target("user", str(thing.id), _user_label(thing))
    if isinstance(thing, ApiToken):
        return Target("token", str(thing.id), f"{thing.name} ({thing.prefix})")
    if isinstance(thing, Form):
        return Target("form", str(thing.id), thing.title, thing.id)
    if isinstance(thing, WebhookEndpoint):
        return Target("webhook", str(thing.id), thing.display_url, thing.form_id)
    raise TypeError(f"no audit target for {thing!r}")


def _checked_details(details: dict[str, Any] | None) -> dict[str, Any]:
    """Ids, counts, flags and short names only: a caller that passes anything else (answers,
    free text) is a bug, caught here rather than kept for 400 days."""
    checked: dict[str, Any] = {}
    for key, value in (details or {}).items():
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if not isinstance(item, int | float | bool | str | None):
                raise TypeError(f"audit detail {key!r} holds a {type(item).__name__}")
            if isinstance(item, str) and len(item) > MAX_DETAIL_TEXT:
                raise ValueError(f"audit detail {key!r} is longer than a name")
        checked[key] = list(value) if isinstance(value, list | tuple) else value
    return checked


def record(
    action: str,
    target: Any = None,
    *,
    outcome: Outcome = Outcome.OK,
    details: dict[str, Any] | None = None,
    actor: Actor | None = None,
) -> AuditEntry:
    """Add an entry for ``action`` (a dotted name, ``form.published``) to the current
    transaction; the caller's commit writes it with the change, its rollback drops both."""
    actor = actor or current_actor()
    about = target_of(target) if target is not None else None
    entry = AuditEntry(
        actor_kind=actor.kind,
        actor_user_id=actor.user_id,
        actor_label=actor.label[:300],
        action=action,
        target_kind=about.kind if about else None,
        target_id=about.id if about else None,
        target_label=(about.label if about else "")[:300],
        form_id=about.form_id if about else None,
        outcome=outcome,
        address=(request.remote_addr or None) if has_request_context() else None,
        request_id=g.get("request_id") if has_request_context() else None,
        details=_checked_details(details),
    )
    db.session.add(entry)
    return entry
