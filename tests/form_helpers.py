"""Forms made and changed through the services, as an editor makes them, for any test that
needs one: the public page, the inbox, email and webhook deliveries, the API."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from typing import Any
from typing import NamedTuple

from app.extensions import db
from app.models import User
from app.services import forms
from app.services.forms.settings import SETTINGS


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
        settings = forms.current_settings(form)
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


# A value for every form setting, none of them the default, as forms.update_settings takes it.
SETTINGS_TO_CARRY: dict[str, Any] = {
    "status": "open",
    "closes_at": datetime(2031, 5, 4, 12, 30, tzinfo=UTC),
    "max_responses": 250,
    "confirmation_message": "Thanks, **really**.",
    "redirect_url": "https://example.org/thanks",
    "submit_label": "Register",
    "one_response_per_browser": True,
    "allowed_origins": ["https://www.example.org", "http://localhost:8000"],
    "allow_saving": True,
    "resume_days": 14,
    "one_question_per_page": True,
    "check_answers": True,
    "spam_threshold": 70,
    "require_proof_of_work": True,
    "endpoint_file_kinds": ["pdf", "text"],
    "retention_days": 90,
    "forward_only": True,
}


def every_setting() -> dict[str, Any]:
    """A value for every declared setting, for tests that a path carries each one: they fail
    until a new setting has a value in ``SETTINGS_TO_CARRY``."""
    assert list(SETTINGS_TO_CARRY) == [setting.name for setting in SETTINGS]
    for setting in SETTINGS:
        assert SETTINGS_TO_CARRY[setting.name] != setting.default, setting.name
    return dict(SETTINGS_TO_CARRY)
