"""Creating forms, their details and draft fields, copies and the trash."""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy import select

from app.exceptions import DomainError
from app.exceptions import NotFound
from app.exceptions import ValidationFailed
from app.extensions import db
from app.fields import FIELD_TYPES
from app.fields import FieldSpec
from app.fields import get_field_type
from app.fields import parse_field_specs
from app.fields import suggest_key
from app.flow.pages import PAGE_BREAK
from app.models import Form
from app.models import FormKind
from app.models import FormVersion
from app.models import User
from app.models.form import TRASH_DAYS
from app.models.types import utcnow
from app.services.audit.recording import record
from app.services.forms.access import check_allowed
from app.services.forms.access import get_form_by_slug
from app.services.forms.settings import apply_nested_settings
from app.services.forms.settings import copy_settings
from app.services.forms.settings import current_settings
from app.services.forms.settings import record_setting_changes
from app.services.forms.templates import TEMPLATES
from app.services.forms.templates import get_template


class Unchanged:
    """What a left-out argument is, where None is a value one may set."""


UNCHANGED = Unchanged()

SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{1,79}")
RESERVED_SLUGS = {"new", "trash", "embed", "static", "api", "admin"}


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


def add_field(form: Form, type_name: str, label: str = "") -> FieldSpec:
    if type_name not in FIELD_TYPES:
        raise ValidationFailed("Choose a field type from the list.", field="type")
    field_type = get_field_type(type_name)
    label = label.strip() or field_type.title
    taken = {item["key"] for item in form.draft_fields} | published_keys(form)
    item: dict[str, Any] = {"key": suggest_key(label, taken), "type": type_name, "label": label}
    item["rules"] = starter_rules(type_name)
    fields = list(form.draft_fields)
    fields.append(item)
    specs = save_fields(form, fields)
    return next(spec for spec in specs if spec.key == item["key"])


def starter_rules(type_name: str) -> dict[str, Any]:
    """Rules a new field of this type needs before anyone edits it."""
    if type_name in {"single_choice", "multiple_choice", "dropdown"}:
        return {"choices": ["Option 1", "Option 2"]}
    return {}


def update_field(form: Form, key: str, changes: dict[str, Any]) -> FieldSpec:
    """Change one field's settings; its key may change only while no version has used it.

    Until then a key that was made from the label follows the label ("How many people?" gives
    ``how_many_people``), and the draft's conditions, routes and piped answers that name the
    field follow the key."""
    index = field_index(form, key)
    current = form.draft_fields[index]
    item = {**current, **changes}
    published = published_keys(form)
    # save_fields keeps a published key's type; a key, renamed, would be a new field here.
    if item.get("key", key) != key and key in published:
        raise ValidationFailed(
            "This field has been published, so its key stays; answers are stored under it.",
            field=f"fields[{index}].key",
        )
    taken = ({entry["key"] for entry in form.draft_fields} | published) - {key}
    key_follows_label = key == suggest_key(current.get("label", ""), taken)
    if item.get("key", key) == key and key not in published and key_follows_label:
        item["key"] = suggest_key(str(item.get("label", "")), taken)
    fields = list(form.draft_fields)
    fields[index] = item
    new_key = item.get("key", key)
    if new_key != key and isinstance(new_key, str):
        fields = [rename_field_references(entry, key, new_key) for entry in fields]
        if form.draft_conditions:
            form.draft_conditions = rename_field_references(form.draft_conditions, key, new_key)
    return save_fields(form, fields)[index]


def rename_field_references(value: Any, old: str, new: str) -> Any:
    """``value`` (a field, a condition, named conditions) with every mention of the field or
    page ``old`` renamed: condition leaves, route targets, a page's default and ``{old}``
    piped into a label or help text."""
    if isinstance(value, list):
        return [rename_field_references(part, old, new) for part in value]
    if not isinstance(value, dict):
        return value
    renamed = {name: rename_field_references(part, old, new) for name, part in value.items()}
    for name in ("field", "goto"):
        if renamed.get(name) == old:
            renamed[name] = new
    rules = renamed.get("rules")
    is_break = renamed.get("type") == PAGE_BREAK
    if is_break and isinstance(rules, dict) and rules.get("default") == old:
        renamed["rules"] = {**rules, "default": new}
    for name in ("label", "help"):
        if isinstance(renamed.get(name), str):
            renamed[name] = renamed[name].replace("{" + old + "}", "{" + new + "}")
    return renamed


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


def update_form(
    form: Form,
    *,
    details: dict[str, str] | None = None,
    fields: list[dict[str, Any]] | None = None,
    settings: dict[str, Any] | None = None,
    conditions: dict[str, Any] | Unchanged | None = UNCHANGED,
) -> None:
    """Change any of a form's details (title, description, slug), draft fields, named
    conditions and settings at once; what is left out stays. Everything is checked before
    anything is stored, so a refusal changes nothing."""
    before = current_settings(form)
    try:
        if details:
            current = {"title": form.title, "description": form.description, "slug": form.slug}
            _apply_details(form, **{**current, **details})
        if fields is not None:
            _apply_fields(form, fields)
        if not isinstance(conditions, Unchanged):
            _apply_conditions(form, conditions)
        if settings:
            apply_nested_settings(form, settings)
    except DomainError:
        db.session.rollback()
        raise
    record_setting_changes(form, before)
    db.session.commit()


def duplicate_form(form: Form, user: User | None) -> Form:
    """A new draft with the same fields and settings, no submissions and no versions."""
    copy = Form(
        title=f"{form.title} (copy)"[:200],
        slug=unique_slug(f"{form.slug}-copy"),
        description=form.description,
        kind=form.kind,
        draft_fields=list(form.draft_fields),
        created_by_id=user.id if user else None,
    )
    copy_settings(form, copy)
    db.session.add(copy)
    db.session.commit()
    return copy


def trash_form(form: Form) -> None:
    form.deleted_at = utcnow()
    record("form.deleted", form)
    db.session.commit()


def restore_form(form: Form) -> None:
    form.deleted_at = None
    record("form.restored", form)
    db.session.commit()


def purge_trashed_forms(now: datetime | None = None) -> int:
    """Delete forms that have been in the trash for more than 30 days; returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=TRASH_DAYS)
    result = db.session.execute(delete(Form).where(Form.deleted_at < cutoff))
    db.session.commit()
    return result.rowcount or 0


def save_conditions(form: Form, conditions: dict[str, Any] | None) -> None:
    """Replace the draft's named conditions. Like pages and show-ifs, they are checked where
    they are used when the form is published, so a draft in progress can always be saved."""
    _apply_conditions(form, conditions)
    db.session.commit()


def _apply_conditions(form: Form, conditions: dict[str, Any] | None) -> None:
    if conditions is not None and not isinstance(conditions, dict):
        raise ValidationFailed(
            "conditions must be an object of named conditions (or null).", field="conditions"
        )
    form.draft_conditions = conditions or None
    form.has_unpublished_changes = True
