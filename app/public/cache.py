"""The forms respondents reach, cached per process for a moment.

A public page or post needs the form's settings, which change rarely; reading them from the
database on every request would cost more than the rest of a page served from memory. Entries
live ``PUBLIC_FORM_TTL`` seconds and are dropped at once when this process changes a form, so
another process sees a change within that time. Posts re-check what matters (open, deadline,
maximum) atomically when they count the submission.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import event
from sqlalchemy import select

from app.caching import ProcessCache
from app.exceptions import FormUnavailable
from app.extensions import db
from app.models import Availability
from app.models import Form
from app.signals import submission_accepted

# A missing form (None) is kept too, so a stale link costs no query either.
_forms: ProcessCache[str, Form | None] = ProcessCache()
_NOT_KEPT = object()


def public_form(slug: str) -> Form | None:
    """The form at ``slug``, without a query when cached. It is detached from any session:
    readers and posts use its settings, and a post's writes name the form by id."""
    form = _forms.get(slug, _NOT_KEPT)
    if form is _NOT_KEPT:
        form = db.session.scalar(select(Form).where(Form.slug == slug))
        if form is not None:
            db.session.expunge(form)
        _forms.set(slug, form, ttl=current_app.config["PUBLIC_FORM_TTL"])
    return form


def form_or_404(slug: str) -> Form:
    """The form at ``slug``; FormUnavailable (404) for none, or one in the trash."""
    form = public_form(slug)
    if form is None or form.in_trash:
        raise FormUnavailable(Availability.DELETED)
    return form


def forget(slug: str | None = None) -> None:
    if slug is None:
        _forms.clear()
    else:
        _forms.pop(slug)


@submission_accepted.connect
def _submission_counted(form: Form, **_extra: object) -> None:
    # The count decides availability only for a form with a maximum.
    if form.max_responses is not None:
        forget(form.slug)


@event.listens_for(Form, "after_update")
@event.listens_for(Form, "after_delete")
def _form_changed(_mapper, _connection, form: Form) -> None:
    forget()  # a slug may have changed too: start afresh
