"""Publishing a form's draft as an immutable version, and reading versions back."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy import select

from app.exceptions import ValidationFailed
from app.extensions import db
from app.fields import get_field_type
from app.fields import parse_field_specs
from app.flow.checks import Problem
from app.flow.checks import flow_problems
from app.flow.pages import pages_of_draft
from app.flow.pages import questions_of_draft
from app.models import Form
from app.models import FormKind
from app.models import FormStatus
from app.models import FormVersion
from app.models import User
from app.models.form import SCHEMA_VERSION
from app.services.audit.recording import record
from app.services.forms.editing import create_form


def publish(form: Form, user: User | None) -> FormVersion:
    """Freeze the draft into a new immutable version, which the public page serves from now on."""
    items = parse_field_specs(form.draft_fields)
    if not form.is_endpoint and not any(get_field_type(s.type).takes_answer for s in items):
        raise ValidationFailed("Add at least one question before publishing.", field="fields")
    problems = flow_problems(items, form.draft_conditions)
    if problems:
        raise ValidationFailed(problems[0].message, field=problems[0].path)
    specs = questions_of_draft(items)
    number = (
        db.session.scalar(
            select(func.max(FormVersion.number)).where(FormVersion.form_id == form.id)
        )
        or 0
    ) + 1
    version = FormVersion(
        form_id=form.id,
        number=number,
        title=form.title,
        description=form.description,
        schema={
            "schema_version": SCHEMA_VERSION,
            "fields": [spec.to_dict() for spec in specs],
            "pages": pages_of_draft(items),
            "conditions": form.draft_conditions or None,
        },
        published_by_id=user.id if user else None,
    )
    db.session.add(version)
    db.session.flush()
    form.published_version_id = version.id
    form.has_unpublished_changes = False
    if form.status == FormStatus.DRAFT:
        form.status = FormStatus.OPEN
    record("form.published", form, details={"version": number})
    db.session.commit()
    return version


def create_endpoint(
    user: User | None, *, title: str | None = None, slug: str | None = None
) -> Form:
    """A static-site endpoint, open at once: other websites post their own HTML forms to it
    (from any website until its editor lists some)."""
    form = create_form(user, title=title or "Website form", slug=slug, kind=FormKind.ENDPOINT)
    publish(form, user)
    return form


def flow_problems_of(form: Form) -> list[Problem]:
    """What stops the draft's flow from being published, for the builder to show by each page
    and question; empty when the fields themselves do not parse (those are shown first)."""
    try:
        items = parse_field_specs(form.draft_fields)
    except ValidationFailed:
        return []
    return flow_problems(items, form.draft_conditions)


def list_versions(form: Form) -> list[FormVersion]:
    query = select(FormVersion).where(FormVersion.form_id == form.id).order_by(FormVersion.number)
    return list(db.session.scalars(query))
