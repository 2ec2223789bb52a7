"""An inbox's columns across a form's versions, and what a row shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.fields import CHOICE_TYPES
from app.fields import FIELD_TYPES
from app.fields import FieldSpec
from app.fields import display_answer
from app.models import EndpointKey
from app.models import Form
from app.models import FormVersion
from app.models import Submission
from app.services.submissions.versions import specs_for

# --- columns ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One answer column: a field of any version (removed ones keep their last label)."""

    key: str
    label: str
    spec: FieldSpec | None
    removed: bool = False

    @property
    def is_choice(self) -> bool:
        return self.spec is not None and self.spec.type in CHOICE_TYPES

    @property
    def choices(self) -> list[dict[str, str]]:
        return list(self.spec.rules.get("choices", [])) if self.spec is not None else []


def versions_of(form: Form) -> dict[int, tuple[int, dict[str, FieldSpec]]]:
    """Each version's number and fields by key, newest version first."""
    versions = db.session.scalars(
        select(FormVersion)
        .where(FormVersion.form_id == form.id)
        .order_by(FormVersion.number.desc())
    )
    return {
        version.id: (version.number, {spec.key: spec for spec in specs_for(version)})
        for version in versions
    }


def columns_for(form: Form, versions: dict | None = None) -> list[Column]:
    """Answer columns: the newest version's fields in order, then fields only older ones had."""
    if form.is_endpoint:
        keys = db.session.scalars(
            select(EndpointKey.key)
            .where(EndpointKey.form_id == form.id)
            .order_by(EndpointKey.first_seen_at, EndpointKey.key)
        )
        return [Column(key, key, None) for key in keys]
    columns: dict[str, Column] = {}
    for index, (_number, specs) in enumerate((versions or versions_of(form)).values()):
        for spec in specs.values():
            if spec.key not in columns and FIELD_TYPES[spec.type].takes_answer:
                columns[spec.key] = Column(spec.key, spec.label, spec, removed=index > 0)
    return list(columns.values())


# --- what a row shows ------------------------------------------------------------------------


def spec_for(
    versions: dict[int, tuple[int, dict[str, FieldSpec]]], submission: Submission, column: Column
) -> FieldSpec | None:
    """The field as it was asked in the submission's version (its label and options then)."""
    if submission.version_id in versions:
        return versions[submission.version_id][1].get(column.key, column.spec)
    return column.spec


def cell_text(
    versions: dict[int, tuple[int, dict[str, FieldSpec]]], submission: Submission, column: Column
) -> str:
    value = submission.answers.get(column.key)
    return display_answer(value, spec_for(versions, submission, column))


@dataclass
class Answer:
    key: str
    label: str
    text: str
    file: dict[str, Any] | None = None


def answers_of(form: Form, submission: Submission) -> list[Answer]:
    """Every answer with the label it was asked under, in the order of its version."""
    versions = versions_of(form)
    specs = versions[submission.version_id][1] if submission.version_id in versions else {}
    shown: list[Answer] = []
    for key, spec in specs.items():
        if FIELD_TYPES[spec.type].takes_answer:
            shown.append(_answer(key, spec.label, submission.answers.get(key), spec))
    for key, value in submission.answers.items():
        if key not in specs:
            shown.append(_answer(key, key, value, None))
    return shown


def _answer(key: str, label: str, value: Any, spec: FieldSpec | None) -> Answer:
    is_file = isinstance(value, dict) and "file_id" in value
    return Answer(key, label, display_answer(value, spec), value if is_file else None)


def version_number(form: Form, submission: Submission) -> int | None:
    if submission.version_id is None:
        return None
    return db.session.scalar(
        select(FormVersion.number).where(FormVersion.id == submission.version_id)
    )
