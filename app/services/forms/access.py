"""Who may see and change forms: roles, and loading a form for a user and an action."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.exceptions import NotAllowed
from app.exceptions import NotFound
from app.extensions import db
from app.models import Form
from app.models import Role
from app.models import User
from app.models.types import MAX_ID

Action = Literal["read", "edit"]
ACTION_ROLES: dict[str, Role] = {"read": Role.VIEWER, "edit": Role.EDITOR}


def check_allowed(user: User, action: Action) -> None:
    """Raise NotAllowed unless ``user``'s role allows ``action`` on forms (and their parts)."""
    if not user.can(ACTION_ROLES[action]):
        raise NotAllowed("Your role does not allow this.")


def get_form_for(user: User, form_id: int, action: Action, *, trashed: bool = False) -> Form:
    """The form ``form_id`` if ``user`` may ``action`` it; NotFound or NotAllowed otherwise.

    Forms in the trash are found only with ``trashed=True`` (to restore them).
    """
    check_allowed(user, action)
    form = db.session.get(Form, form_id) if 0 < form_id <= MAX_ID else None
    if form is None or form.in_trash != trashed:
        raise NotFound("No such form.")
    return form


def list_forms(user: User, *, trashed: bool = False) -> list[Form]:
    check_allowed(user, "read")
    in_trash = Form.deleted_at.is_not(None) if trashed else Form.deleted_at.is_(None)
    query = (
        select(Form)
        .where(in_trash)
        .order_by(Form.updated_at.desc(), Form.id.desc())
        .options(selectinload(Form.published_version))
    )
    return list(db.session.scalars(query))


def get_form_by_slug(slug: str) -> Form | None:
    return db.session.scalar(select(Form).where(Form.slug == slug))
