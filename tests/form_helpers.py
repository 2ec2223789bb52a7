"""Forms made and changed through the services, as an editor makes them, for any test that
needs one: the public page, the inbox, email and webhook deliveries, the API."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any
from typing import NamedTuple

from app.extensions import db
from app.models import User
from app.services import forms


class MadeForm(NamedTuple):
    """What tests need of a form they made: its id (services, deliveries, the API) and its slug
    (the public page)."""

    id: int
    slug: str


def make_form(
    app,
    fields: Sequence[dict[str, Any]] = (),
    *,
    title: str = "Contact us",
    slug: str | None = "contact",
    description: str = "",
    kind: str = "built",
    owner_id: int | None = None,
    publish: bool = True,
    **settings: Any,
) -> MadeForm:
    """A form with ``fields``, published unless told; its id and slug.

    ``slug=None`` makes one from the title, as the builder does. ``owner_id`` is the user who
    created it (None: the command line); an endpoint (``kind="endpoint"``) takes no fields.
    Other keywords are settings (``max_responses=1``, ``allowed_origins=[...]``, ...).
    """
    with app.app_context():
        creator = db.session.get(User, owner_id) if owner_id else None
        form = forms.create_form(creator, title=title, slug=slug, kind=kind)
        if description:
            forms.update_details(form, title=title, description=description, slug=form.slug)
        if fields:
            forms.save_fields(form, copy.deepcopy(list(fields)))
        if publish:
            forms.publish(form, None)
        made = MadeForm(form.id, form.slug)
    if settings:
        change_settings(app, made.slug, **settings)
    return made


def make_endpoint(app, *, slug: str = "contact", **settings: Any) -> str:
    """An open static-site endpoint; other websites post their own HTML forms to it."""
    return make_form(app, title="Site contact", slug=slug, kind="endpoint", **settings).slug


def change_settings(app, slug: str, **changes: Any) -> None:
    """Change some settings through the service, keeping the others."""
    with app.app_context():
        form = forms.get_form_by_slug(slug)
        settings = {
            "status": form.status.value,
            "closes_at": form.closes_at,
            "max_responses": form.max_responses,
            "confirmation_message": form.confirmation_message,
            "redirect_url": form.redirect_url,
            "submit_label": form.submit_label,
            "one_response_per_browser": form.one_response_per_browser,
            "allowed_origins": list(form.allowed_origins),
        }
        forms.update_settings(form, **(settings | changes))


def publish_fields(app, slug: str, fields: list[dict[str, Any]]) -> int:
    """Save new draft fields and publish them; the new version's id."""
    with app.app_context():
        form = forms.get_form_by_slug(slug)
        forms.save_fields(form, copy.deepcopy(fields))
        return forms.publish(form, None).id


def trash(app, slug: str) -> None:
    with app.app_context():
        forms.trash_form(forms.get_form_by_slug(slug))
