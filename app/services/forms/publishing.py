"""Publishing a form's draft as an immutable version, and reading versions back."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy import select

from app.exceptions import ValidationFailed
from app.extensions import db
from app.fields import get_field_type
from app.fields import parse_field_specs
from app.models import Form
from app.models import FormStatus
from app.models import FormVersion
from app.models import User
from app.models.form import SCHEMA_VERSION


def publish(form: Form, user: User | None) -> FormVersion:
    """Freeze the draft into a new immutable version, which the public page serves from now on."""
    specs = parse_field_specs(form.draft_fields)
    if not form.is_endpoint and not any(get_field_type(s.type).takes_answer for s in specs):
        raise ValidationFailed("Add at least one question before publishing.", field="fields")
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
            "pages": None,
        },
        published_by_id=user.id if user else None,
    )
    db.session.add(version)
    db.session.flush()
    form.published_version_id = version.id
    form.has_unpublished_changes = False
    if form.status == FormStatus.DRAFT:
        form.status = FormStatus.OPEN
    db.session.commit()
    return version


def list_versions(form: Form) -> list[FormVersion]:
    query = select(FormVersion).where(FormVersion.form_id == form.id).order_by(FormVersion.number)
    return list(db.session.scalars(query))
