"""A version's pages and where each leads: the path a respondent takes, and what they see.

Stored inside the immutable version's schema, next to its fields::

    {"fields": [...],
     "pages": [{"id": "about", "title": "", "description": "", "fields": ["name", "age"],
                "routes": [{"if": <condition>, "goto": "adults" | "submit"}],
                "default": null | "adults" | "submit", "show_if": <condition> | null}, ...],
     "conditions": {"is_adult": <condition>, ...}}

A field may carry ``show_if``. A version without pages is one page holding every field, so
versions published before pages existed need no migration.

Walking is done in page order, over the answers seen so far: a page whose ``show_if`` fails is
skipped, a field whose ``show_if`` fails is hidden and its answer dropped (a link's hidden
values excepted), and after each page its routes are tried in order, then its default (none:
the next page). The final submit walks again over every answer, so the path a client claims
counts for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import Any

from app.fields.spec import FieldSpec
from app.flow.conditions import Condition
from app.flow.conditions import evaluate

SUBMIT = "submit"
FIRST_PAGE_ID = "page-1"


@dataclass(frozen=True)
class Route:
    condition: Condition
    goto: str  # a later page's id, or SUBMIT


@dataclass(frozen=True)
class Page:
    id: str
    keys: tuple[str, ...]
    title: str = ""
    description: str = ""
    routes: tuple[Route, ...] = ()
    default: str | None = None  # None: the next page in order (or submit after the last)
    show_if: Condition | None = None
    # One question at a time: the version's page this question's page is cut from, and the
    # question's own condition (when it fails, the page is not shown, but still leads on).
    part_of: str | None = None
    question_if: Condition | None = None

    @property
    def version_page_id(self) -> str:
        return self.part_of or self.id

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "fields": list(self.keys),
            "routes": [{"if": route.condition, "goto": route.goto} for route in self.routes],
            "default": self.default,
            "show_if": self.show_if,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Page:
        """A page as stored; checked when its version was published, so not checked again."""
        return cls(
            id=data["id"],
            keys=tuple(data.get("fields") or ()),
            title=data.get("title") or "",
            description=data.get("description") or "",
            routes=tuple(Route(route["if"], route["goto"]) for route in data.get("routes") or ()),
            default=data.get("default"),
            show_if=data.get("show_if"),
        )


@dataclass(frozen=True)
class Walk:
    """Where a set of answers leads: the pages shown in order, the fields shown, and the
    answers kept (those of shown fields, and a link's hidden values)."""

    path: tuple[str, ...]
    visible: frozenset[str]
    answers: dict[str, Any]
    complete: bool  # the walk reached submit, rather than stopping at a page asked for


@dataclass(frozen=True)
class Flow:
    pages: tuple[Page, ...]
    field_conditions: Mapping[str, Condition] = field(default_factory=dict)
    named: Mapping[str, Condition] = field(default_factory=dict)
    always_kept: frozenset[str] = frozenset()  # hidden-value fields, filled from the link

    @classmethod
    def from_schema(cls, schema: Mapping[str, Any], always_kept: Iterable[str] = ()) -> Flow:
        """The flow of a version's (or a draft's) schema; one page when it has none."""
        fields = schema.get("fields") or []
        pages = schema.get("pages") or [
            {"id": FIRST_PAGE_ID, "fields": [item["key"] for item in fields]}
        ]
        return cls(
            pages=tuple(Page.from_dict(page) for page in pages),
            field_conditions={
                item["key"]: item["show_if"] for item in fields if item.get("show_if") is not None
            },
            named=dict(schema.get("conditions") or {}),
            always_kept=frozenset(always_kept),
        )

    @property
    def is_multi_page(self) -> bool:
        return len(self.pages) > 1

    @property
    def branches(self) -> bool:
        """Whether some answers skip pages (a route, or a page's condition)."""
        return any(
            page.routes or page.default or page.show_if or page.question_if for page in self.pages
        )

    @property
    def has_logic(self) -> bool:
        """Whether some answers may hide questions: pages, or a question's condition."""
        return (
            self.is_multi_page or bool(self.field_conditions) or self.pages[0].show_if is not None
        )

    def one_question_per_page(self, questions: Iterable[str]) -> Flow:
        """The same flow with each of ``questions`` on a page of its own (Typeform's style);
        statements and hidden values go with the question after them (the last one's with
        the question before). The first part of a page keeps its id, so routes to it hold;
        each later part takes its question's key, which no page id can equal. A part is
        shown when its page and its question are; a part whose question is hidden is passed
        over, yet the page's routes still follow its last part. Walking, paging and the
        final submit need nothing else."""
        asked = set(questions)
        pages = tuple(part for page in self.pages for part in self._split(page, asked))
        return replace(self, pages=pages)

    def _split(self, page: Page, asked: set[str]) -> list[Page]:
        groups: list[list[str]] = []
        pending: list[str] = []
        for key in page.keys:
            pending.append(key)
            if key in asked:
                groups.append(pending)
                pending = []
        if pending and groups:
            groups[-1].extend(pending)
        if len(groups) < 2:
            question = next((key for key in page.keys if key in asked), None)
            return [replace(page, question_if=self.field_conditions.get(question))]
        parts = []
        for number, keys in enumerate(groups):
            question = next(key for key in keys if key in asked)
            last = number == len(groups) - 1
            parts.append(
                Page(
                    id=page.id if number == 0 else question,
                    keys=tuple(keys),
                    title=page.title,
                    description=page.description if number == 0 else "",
                    routes=page.routes if last else (),
                    default=page.default if last else None,
                    show_if=page.show_if,
                    part_of=None if number == 0 else page.id,
                    question_if=self.field_conditions.get(question),
                )
            )
        return parts

    def version_path(self, path: Iterable[str]) -> list[str]:
        """A path in the version's pages: one question at a time, its questions' pages
        become the pages they were cut from."""
        found: list[str] = []
        for page_id in path:
            page = self.page(page_id)
            version_page = page.version_page_id if page else page_id
            if not found or found[-1] != version_page:
                found.append(version_page)
        return found

    def page(self, page_id: str) -> Page | None:
        return next((page for page in self.pages if page.id == page_id), None)

    def index_of(self, page_id: str) -> int:
        return next(index for index, page in enumerate(self.pages) if page.id == page_id)

    def walk(self, answers: Mapping[str, Any], *, stop_at: str | None = None) -> Walk:
        """Follow ``answers`` from the first page to submit, or until page ``stop_at`` (which
        is then the last page of the path, its own fields not yet judged)."""
        kept = {key: answers[key] for key in self.always_kept if key in answers}
        path: list[str] = []
        visible: set[str] = set()
        index = 0
        while index < len(self.pages):
            page = self.pages[index]
            if not evaluate(page.show_if, kept, self.named):
                index += 1
                continue
            if evaluate(page.question_if, kept, self.named):
                path.append(page.id)
                if page.id == stop_at:
                    return Walk(tuple(path), frozenset(visible), kept, complete=False)
            self._show_fields(page, answers, kept, visible)
            target = self.next_page_id(page, kept)
            if target == SUBMIT:
                break
            index = self._forward_index(index, target)
        return Walk(tuple(path), frozenset(visible), kept, complete=True)

    def _forward_index(self, index: int, target: str | None) -> int:
        """The index of the page a route leads to; only forward, as publishing checks, so
        that an unchecked draft's loop cannot hang a walk."""
        if target is None:
            return index + 1
        found = next((at for at, page in enumerate(self.pages) if page.id == target), None)
        if found is None or found <= index:
            raise ValueError(f"page {self.pages[index].id!r} leads to {target!r}, not forward")
        return found

    def _show_fields(
        self, page: Page, answers: Mapping[str, Any], kept: dict[str, Any], visible: set[str]
    ) -> None:
        for key in page.keys:
            if evaluate(self.field_conditions.get(key), kept, self.named):
                visible.add(key)
                if key in answers:
                    kept[key] = answers[key]

    def next_page_id(self, page: Page, answers: Mapping[str, Any]) -> str | None:
        """Where ``page`` leads for ``answers``: a page id, SUBMIT, or None for the next page
        in order (SUBMIT after the last)."""
        for route in page.routes:
            if evaluate(route.condition, answers, self.named):
                return route.goto
        if page.default is not None:
            return page.default
        return SUBMIT if page is self.pages[-1] else None


PAGE_BREAK = "page"


def pages_of_draft(items: Sequence[FieldSpec]) -> list[dict[str, Any]] | None:
    """A draft's pages in a version's shape, from its page breaks (None when it has none):
    each break starts a page and gives it its id, title, description, condition and routes.
    Questions before the first break are a first page of their own, ``page-1`` (no key can
    take that id), which leads to the next page."""
    if not any(item.type == PAGE_BREAK for item in items):
        return None
    pages: list[dict[str, Any]] = []
    if items and items[0].type != PAGE_BREAK:  # questions before the first break: page one
        pages.append({"id": FIRST_PAGE_ID, "title": "", "description": "", "fields": []})
    for item in items:
        if item.type == PAGE_BREAK:
            pages.append(
                {
                    "id": item.key,
                    "title": item.label,
                    "description": item.help,
                    "fields": [],
                    "routes": item.rules.get("routes", []),
                    "default": item.rules.get("default"),
                    "show_if": item.show_if,
                }
            )
        elif pages:
            pages[-1]["fields"].append(item.key)
    return pages


def questions_of_draft(items: Sequence[FieldSpec]) -> list[FieldSpec]:
    """A draft's items without its page breaks: the fields of the version."""
    return [item for item in items if item.type != PAGE_BREAK]
