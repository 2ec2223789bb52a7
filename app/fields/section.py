"""A heading or a statement between questions: shown, never answered."""

from __future__ import annotations

from typing import Any

from wtforms.fields.core import UnboundField

from app.fields.base import FieldType
from app.fields.spec import FieldSpec


class Section(FieldType):
    name = "section"
    condition_kind = None
    title = "Section heading"
    takes_answer = False
    prefillable = False
    requirable = False
    summary_kind = None
    default_input = None
    takes_placeholder = False

    def build_field(self, spec: FieldSpec) -> UnboundField | None:
        return None

    def normalize_default(self, raw: Any, spec: FieldSpec) -> Any:
        raise ValueError("a section takes no answer, so it has no default.")
