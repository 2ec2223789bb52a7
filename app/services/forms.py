"""Forms: who may see and change them, their fields, publishing, settings and the trash."""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any
from typing import Literal
from urllib.parse import urlsplit

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.fields import FIELD_TYPES
from app.fields import FieldSpec
from app.fields import get_field_type
from app.fields import parse_field_specs
from app.fields import suggest_key
from app.models import Form
from app.models import FormKind
from app.models import FormStatus
from app.models import FormVersion
from app.models import Role
from app.models import User
from app.models.form import SCHEMA_VERSION
from app.models.form import TRASH_DAYS
from app.models.types import MAX_ID
from app.models.types import utcnow
from app.services.errors import DomainError
from app.services.errors import NotAllowed
from app.services.errors import NotFound
from app.services.errors import ValidationFailed
from app.services.form_templates import TEMPLATES
from app.services.form_templates import get_template

Action = Literal["read", "edit"]
ACTION_ROLES: dict[str, Role] = {"read": Role.VIEWER, "edit": Role.EDITOR}
SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{1,79}")
RESERVED_SLUGS = {"new", "trash", "embed", "static", "api", "admin"}
ORIGIN_PATTERN = re.compile(r"https?://[a-z0-9.-]+(:\d{1,5})?")


# --- who may do what -----------------------------------------------------------------------


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


# --- creating --------------------------------------------------------------------------------


def create_form(
    user: User | None,
    *,
    title: str | None = None,
    template: str = "blank",
    slug: str | None = None,
    kind: FormKind | str = FormKind.BUILT,
) -> Form:
    """A new draft form, blank or from a template, if ``user`` may edit forms; ``user`` None
    means the CLI."""
    if user is not None:
        check_allowed(user, "edit")
    if template not in TEMPLATES:
        known = ", ".join(TEMPLATES)
        raise ValidationFailed(
            f"Unknown template {template!r}; choose one of {known}.", field="template"
        )
    source = get_template(template)
    title = _check_title(title or source["title"])
    specs = parse_field_specs(source["fields"])
    form = Form(
        title=title,
        slug=_check_slug(slug) if slug else unique_slug(title),
        description=source["description"],
        kind=FormKind(kind),
        draft_fields=[spec.to_dict() for spec in specs],
        created_by_id=user.id if user else None,
        allowed_origins=[],
    )
    db.session.add(form)
    db.session.commit()
    return form


def unique_slug(title: str) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "form"
    if len(stem) < 2:
        stem = f"form-{stem}"
    slug = stem
    while slug in RESERVED_SLUGS or get_form_by_slug(slug) is not None:
        slug = f"{stem}-{secrets.token_hex(3)}"
    return slug


def _check_slug(slug: str, form: Form | None = None) -> str:
    slug = slug.strip().lower()
    if not SLUG_PATTERN.fullmatch(slug) or slug in RESERVED_SLUGS:
        raise ValidationFailed(
            "Use 2 to 80 lowercase letters, digits and dashes, starting with a letter or digit.",
            field="slug",
        )
    existing = get_form_by_slug(slug)
    if existing is not None and existing is not form:
        raise ValidationFailed("Another form already uses this address.", field="slug")
    return slug


def _check_title(title: str) -> str:
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ValidationFailed("Give the form a title of at most 200 characters.", field="title")
    return title


def update_details(form: Form, *, title: str, description: str, slug: str) -> None:
    """Title, description (Markdown) and address. Title and description go live on publish."""
    _apply_details(form, title=title, description=description, slug=slug)
    db.session.commit()


def _apply_details(form: Form, *, title: str, description: str, slug: str) -> None:
    form.slug = _check_slug(slug, form)
    new_title = _check_title(title)
    description = (description or "").strip()
    if len(description) > 10_000:
        raise ValidationFailed("Keep the description under 10,000 characters.", field="description")
    if (new_title, description) != (form.title, form.description):
        form.has_unpublished_changes = True
    form.title, form.description = new_title, description


# --- fields ----------------------------------------------------------------------------------


def published_keys(form: Form) -> set[str]:
    """Keys that answers may already use; they stay fixed so old answers keep their column."""
    keys: set[str] = set()
    versions = db.session.scalars(select(FormVersion.schema).where(FormVersion.form_id == form.id))
    for schema in versions:
        keys.update(item["key"] for item in schema.get("fields", []))
    return keys


def save_fields(form: Form, raw_fields: list[dict[str, Any]]) -> list[FieldSpec]:
    """Replace the draft's fields after checking them all; every field edit goes through here."""
    specs = _apply_fields(form, raw_fields)
    db.session.commit()
    return specs


def _apply_fields(form: Form, raw_fields: list[dict[str, Any]]) -> list[FieldSpec]:
    specs = parse_field_specs(raw_fields)
    check_published_types(form, specs)
    form.draft_fields = [spec.to_dict() for spec in specs]
    form.has_unpublished_changes = True
    return specs


def published_types(form: Form) -> dict[str, str]:
    """The type each published key had in the newest version that used it."""
    types: dict[str, str] = {}
    versions = db.session.scalars(
        select(FormVersion.schema)
        .where(FormVersion.form_id == form.id)
        .order_by(FormVersion.number.desc())
    )
    for schema in versions:
        for item in schema.get("fields", []):
            types.setdefault(item["key"], item["type"])
    return types


def check_published_types(form: Form, specs: list[FieldSpec]) -> None:
    """A published key keeps its type: its answers are stored in that type's shape."""
    published = published_types(form)
    for index, spec in enumerate(specs):
        if spec.key in published and spec.type != published[spec.key]:
            raise ValidationFailed(
                "A published field cannot change type; add a new field instead.",
                field=f"fields[{index}].type",
            )


def field_index(form: Form, key: str) -> int:
    for index, item in enumerate(form.draft_fields):
        if item["key"] == key:
            return index
    raise NotFound("No such field.")


def add_field(
    form: Form, type_name: str, label: str = "", position: int | None = None
) -> FieldSpec:
    if type_name not in FIELD_TYPES:
        raise ValidationFailed("Choose a field type from the list.", field="type")
    field_type = get_field_type(type_name)
    label = label.strip() or field_type.title
    taken = {item["key"] for item in form.draft_fields} | published_keys(form)
    item: dict[str, Any] = {"key": suggest_key(label, taken), "type": type_name, "label": label}
    item["rules"] = starter_rules(type_name)
    fields = list(form.draft_fields)
    fields.insert(len(fields) if position is None else max(0, position), item)
    specs = save_fields(form, fields)
    return next(spec for spec in specs if spec.key == item["key"])


def starter_rules(type_name: str) -> dict[str, Any]:
    """Rules a new field of this type needs before anyone edits it."""
    if type_name in {"single_choice", "multiple_choice", "dropdown"}:
        return {"choices": ["Option 1", "Option 2"]}
    return {}


def update_field(form: Form, key: str, changes: dict[str, Any]) -> FieldSpec:
    """Change one field's settings; its key may change only while no version has used it."""
    index = field_index(form, key)
    current = form.draft_fields[index]
    item = {**current, **changes}
    # save_fields keeps a published key's type; a key, renamed, would be a new field here.
    if item.get("key", key) != key and key in published_keys(form):
        raise ValidationFailed(
            "This field has been published, so its key stays; answers are stored under it.",
            field=f"fields[{index}].key",
        )
    fields = list(form.draft_fields)
    fields[index] = item
    return save_fields(form, fields)[index]


def delete_field(form: Form, key: str) -> None:
    index = field_index(form, key)
    save_fields(form, form.draft_fields[:index] + form.draft_fields[index + 1 :])


def duplicate_field(form: Form, key: str) -> FieldSpec:
    index = field_index(form, key)
    original = FieldSpec.from_dict(form.draft_fields[index])
    taken = {item["key"] for item in form.draft_fields} | published_keys(form)
    copy = replace(
        original, key=suggest_key(original.label, taken), label=f"{original.label} (copy)"[:500]
    )
    fields = list(form.draft_fields)
    fields.insert(index + 1, copy.to_dict())
    return save_fields(form, fields)[index + 1]


def reorder_fields(form: Form, keys: list[str]) -> None:
    """Put the fields in the order of ``keys``, which must name each field once."""
    by_key = {item["key"]: item for item in form.draft_fields}
    if sorted(keys) != sorted(by_key):
        raise ValidationFailed("The new order must list every field exactly once.", field="order")
    save_fields(form, [by_key[key] for key in keys])


def move_field(form: Form, key: str, offset: int) -> None:
    """Move a field up (negative) or down (positive); the keyboard way to reorder."""
    keys = [item["key"] for item in form.draft_fields]
    index = field_index(form, key)
    target = min(max(index + offset, 0), len(keys) - 1)
    keys.insert(target, keys.pop(index))
    reorder_fields(form, keys)


# --- publishing --------------------------------------------------------------------------------


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


def get_version(version_id: int) -> FormVersion | None:
    return db.session.get(FormVersion, version_id)


def list_versions(form: Form) -> list[FormVersion]:
    query = select(FormVersion).where(FormVersion.form_id == form.id).order_by(FormVersion.number)
    return list(db.session.scalars(query))


# --- settings ----------------------------------------------------------------------------------


def update_settings(form: Form, **settings: Any) -> None:
    """Check and save a form's settings, named as ``_apply_settings`` takes them."""
    _apply_settings(form, **settings)
    db.session.commit()


def _apply_settings(
    form: Form,
    *,
    status: str,
    closes_at: datetime | None,
    max_responses: int | None,
    confirmation_message: str,
    redirect_url: str | None,
    submit_label: str,
    one_response_per_browser: bool,
    allowed_origins: list[str],
) -> None:
    try:
        form.status = FormStatus(status)
    except ValueError:
        raise ValidationFailed("Choose draft, open or closed.", field="status") from None
    if closes_at is not None:
        closes_at = _check_closing_time(closes_at)
    if max_responses is not None and not 1 <= max_responses <= 10_000_000:
        raise ValidationFailed("Use a number from 1 to 10,000,000.", field="max_responses")
    form.closes_at = closes_at
    form.max_responses = max_responses
    form.confirmation_message = (confirmation_message or "").strip()[:5000]
    form.redirect_url = check_redirect_url(redirect_url)
    form.submit_label = (submit_label or "").strip()[:100] or "Submit"
    form.one_response_per_browser = one_response_per_browser
    form.allowed_origins = check_origins(allowed_origins)


def current_settings(form: Form) -> dict[str, Any]:
    """The form's settings, as ``update_settings`` takes them."""
    return {
        "status": form.status.value,
        "closes_at": form.closes_at,
        "max_responses": form.max_responses,
        "confirmation_message": form.confirmation_message,
        "redirect_url": form.redirect_url,
        "submit_label": form.submit_label,
        "one_response_per_browser": form.one_response_per_browser,
        "allowed_origins": list(form.allowed_origins),
    }


def update_form(
    form: Form,
    *,
    details: dict[str, str] | None = None,
    fields: list[dict[str, Any]] | None = None,
    settings: dict[str, Any] | None = None,
) -> None:
    """Change any of a form's details (title, description, slug), draft fields and settings at
    once; what is left out stays. Everything is checked before anything is stored, so a
    refusal changes nothing."""
    try:
        if details:
            current = {"title": form.title, "description": form.description, "slug": form.slug}
            _apply_details(form, **{**current, **details})
        if fields is not None:
            _apply_fields(form, fields)
        if settings:
            _apply_nested_settings(form, settings)
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()


def _apply_nested_settings(form: Form, settings: dict[str, Any]) -> None:
    """Settings given as ``{"settings": {...}}``: a refusal names ``settings.<name>``."""
    try:
        _apply_settings(form, **{**current_settings(form), **settings})
    except DomainError as error:
        if error.field:
            error.field = f"settings.{error.field}"
        raise


def _check_closing_time(closes_at: datetime) -> datetime:
    if closes_at.tzinfo is None:
        raise ValidationFailed("Give the closing time with its time zone.", field="closes_at")
    try:
        return closes_at.astimezone(UTC)
    except OverflowError:  # so close to year 1 or 9999 that UTC falls outside the calendar
        raise ValidationFailed(
            "Give a closing time within our calendar.", field="closes_at"
        ) from None


def check_redirect_url(url: str | None) -> str | None:
    url = (url or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname or len(url) > 2000:
        raise ValidationFailed(
            "Give a full web address starting with https:// (or leave it empty).",
            field="redirect_url",
        )
    return url


def normalize_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def check_origins(origins: list[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in origins:
        origin = normalize_origin(raw)
        if not origin:
            continue
        if not ORIGIN_PATTERN.fullmatch(origin):
            raise ValidationFailed(
                f'"{raw.strip()}" is not a website origin; write it like https://www.example.org '
                "(scheme and host, no path).",
                field="allowed_origins",
            )
        if origin not in cleaned:
            cleaned.append(origin)
    if len(cleaned) > 50:
        raise ValidationFailed("List at most 50 websites.", field="allowed_origins")
    return cleaned


# --- copies and the trash ------------------------------------------------------------------------


def duplicate_form(form: Form, user: User | None) -> Form:
    """A new draft with the same fields and settings, no submissions and no versions."""
    copy = Form(
        title=f"{form.title} (copy)"[:200],
        slug=unique_slug(f"{form.slug}-copy"),
        description=form.description,
        kind=form.kind,
        draft_fields=list(form.draft_fields),
        closes_at=form.closes_at,
        max_responses=form.max_responses,
        confirmation_message=form.confirmation_message,
        redirect_url=form.redirect_url,
        submit_label=form.submit_label,
        one_response_per_browser=form.one_response_per_browser,
        allowed_origins=list(form.allowed_origins),
        created_by_id=user.id if user else None,
    )
    db.session.add(copy)
    db.session.commit()
    return copy


def trash_form(form: Form) -> None:
    form.deleted_at = utcnow()
    db.session.commit()


def restore_form(form: Form) -> None:
    form.deleted_at = None
    db.session.commit()


def purge_trashed_forms(now: datetime | None = None) -> int:
    """Delete forms that have been in the trash for more than 30 days; returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=TRASH_DAYS)
    result = db.session.execute(delete(Form).where(Form.deleted_at < cutoff))
    db.session.commit()
    return result.rowcount or 0
