"""A draft's flow for the builder's overview: its pages in order, each with its questions, their
conditions in words and where the page leads, and the publish checks' problems placed by the
page or question they concern."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from app.fields import FieldSpec
from app.flow.describe import describe
from app.flow.pages import FIRST_PAGE_ID
from app.flow.pages import PAGE_BREAK
from app.flow.pages import SUBMIT
from app.models import Form
from app.services.forms.publishing import flow_problems_of

ITEM_PATH = re.compile(r"fields\[(?P<index>\d+)\]")


@dataclass
class QuestionStep:
    spec: FieldSpec
    shown_if: str  # the condition in words; empty when always shown
    problems: list[str] = field(default_factory=list)


@dataclass
class PageStep:
    number: int
    id: str
    title: str
    spec: FieldSpec | None  # its page break; None for the questions before the first break
    shown_if: str = ""
    questions: list[QuestionStep] = field(default_factory=list)
    routes: list[tuple[str, str]] = field(default_factory=list)  # (condition, where) in words
    otherwise: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"Page {self.number}: {self.title}" if self.title else f"Page {self.number}"


@dataclass
class FlowOverview:
    pages: list[PageStep]
    problems: list[str]  # every problem, in the order the checks found them
    unplaced: list[str]  # those that concern the form as a whole, or its named conditions


def flow_overview(form: Form) -> FlowOverview:
    items = form.draft_specs
    specs = {spec.key: spec for spec in items if spec.type != PAGE_BREAK}
    named = form.draft_conditions if isinstance(form.draft_conditions, dict) else {}

    def words(condition: Any) -> str:
        if condition is None:
            return ""
        text = describe(condition, specs, named) if isinstance(condition, dict) else ""
        return text or json.dumps(condition)

    pages, owners = _pages(items, words)
    for page in pages:
        _where_it_leads(page, pages, words)
    overview = FlowOverview(pages, [], [])
    for problem in flow_problems_of(form):
        overview.problems.append(problem.message)
        match = ITEM_PATH.match(problem.path)
        owner = owners.get(int(match.group("index"))) if match else None
        (owner.problems if owner else overview.unplaced).append(problem.message)
    return overview


def _pages(items: list[FieldSpec], words) -> tuple[list[PageStep], dict[int, Any]]:
    """The pages of the draft and, by item index, the step (page or question) each item is."""
    pages: list[PageStep] = []
    owners: dict[int, PageStep | QuestionStep] = {}
    if not items or items[0].type != PAGE_BREAK:
        pages.append(PageStep(1, FIRST_PAGE_ID, "", None))
    for index, spec in enumerate(items):
        if spec.type == PAGE_BREAK:
            page = PageStep(len(pages) + 1, spec.key, spec.label.strip(), spec, words(spec.show_if))
            pages.append(page)
            owners[index] = page
        else:
            question = QuestionStep(spec, words(spec.show_if))
            pages[-1].questions.append(question)
            owners[index] = question
    return pages, owners


def _where_it_leads(page: PageStep, pages: list[PageStep], words) -> None:
    by_id = {other.id: other for other in pages}

    def target(goto: Any) -> str:
        if goto == SUBMIT:
            return "submit"
        found = by_id.get(goto) if isinstance(goto, str) else None
        return found.name if found else f"“{goto}” (no such page)"

    rules = page.spec.rules if page.spec else {}
    for route in rules.get("routes") or []:
        if isinstance(route, dict):
            page.routes.append((words(route.get("if")), target(route.get("goto"))))
    if rules.get("default"):
        page.otherwise = target(rules["default"])
    elif page.number < len(pages):
        page.otherwise = f"the next page, {pages[page.number].name}"
    else:
        page.otherwise = "submit"
