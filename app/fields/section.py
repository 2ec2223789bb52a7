"""A heading or a statement between questions: shown, never answered."""

from __future__ import annotations

from typing import Any

from wtforms.fields.core import UnboundField

from app.fields.base import FieldType
from app.fields.rules import RuleReader
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


class PageBreak(Section):
    """Starts a page of a multi-page form. Its key is the page's id, its label and help the
    page's title and description, its show_if the page's; its rules say where the page leads
    (``routes``, tried in order, then ``default``). Publishing turns the breaks into the
    version's pages (app/flow/pages.py), whose conditions are checked then (app/flow/checks.py)."""

    name = "page"
    title = "Page break"

    def check_rules(self, rules: RuleReader) -> dict[str, Any]:
        rules.allow_only("routes", "default")
        routes = rules.rules.get("routes")
        if routes is not None and not isinstance(routes, list):
            rules.fail("routes", "routes must be a list of rules.")
        default = rules.rules.get("default")
        if default is not None and not isinstance(default, str):
            rules.fail("default", 'default must be the key of a later page, "submit" or null.')
        return {"routes": routes or [], "default": default}
