"""A submission's answers as one list, for emails and webhook bodies.

Built forms answer in their version's order with its labels; static-site endpoints in the order
the fields were posted, each key being its own label.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.fields import ExportContext
from app.fields import FieldSpec
from app.fields import answer_json_value
from app.fields import display_answer
from app.fields import get_field_type
from app.links import external_url_or_none
from app.models import Form
from app.models import FormVersion
from app.models import Submission
from app.services.submissions.versions import specs_for


@dataclass(frozen=True)
class AnsweredField:
    key: str
    label: str
    type: str | None  # None for an endpoint's field
    value: Any  # JSON-native, files as {name, size, content_type, url}
    display: str  # as a person reads it


def answer_sheet(
    form: Form,
    version: FormVersion | None,
    submission: Submission,
    file_url: Callable[[dict[str, Any]], str] | None = None,
) -> list[AnsweredField]:
    """Every answer of ``submission``: questions left empty are kept, with an empty display;
    questions the respondent was never shown (hidden by the form's logic), whose keys the
    stored answers lack, are left out, so JSON tells them apart (absent, not null).

    Files link to the inbox's download, or to what ``file_url`` makes of a file reference.
    """
    context = ExportContext(file_url=file_url or (lambda reference: _file_url(form.id, reference)))
    answers = submission.answers or {}
    specs = [spec for spec in _answerable_specs(version) if spec.key in answers]
    sheet = [_answered(spec.key, spec, answers.get(spec.key), context) for spec in specs]
    known = {spec.key for spec in specs}
    # Endpoint fields, and answers kept under a key the version no longer has.
    sheet += [
        _answered(key, None, value, context) for key, value in answers.items() if key not in known
    ]
    return sheet


def first_email_answer(version: FormVersion | None, submission: Submission) -> str | None:
    """The first answered email-type question: the respondent's address on a built form."""
    for spec in _answerable_specs(version):
        value = (submission.answers or {}).get(spec.key)
        if spec.type == "email" and isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _answerable_specs(version: FormVersion | None) -> list[FieldSpec]:
    if version is None:
        return []
    return [spec for spec in specs_for(version) if _takes_answer(spec)]


def _takes_answer(spec: FieldSpec) -> bool:
    try:
        return get_field_type(spec.type).takes_answer
    except KeyError:
        return True


def _answered(
    key: str, spec: FieldSpec | None, value: Any, context: ExportContext
) -> AnsweredField:
    return AnsweredField(
        key=key,
        label=spec.label if spec else key,
        type=spec.type if spec else None,
        value=answer_json_value(value, spec, context),
        display=display_answer(value, spec),
    )


def _file_url(form_id: int, reference: dict[str, Any]) -> str:
    url = external_url_or_none("inbox.download_file", form_id=form_id, file_id=reference["file_id"])
    return url or ""
