"""The publish checks of a form's flow: its pages, routes and conditions.

Each problem names the page and the question it concerns, and carries the path of the JSON at
fault (``pages[1].routes[0].if.value``), so forms as code can point at its line. A draft with
problems is saved but cannot be published.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.fields import FieldSpec
from app.fields import get_field_type
from app.flow.conditions import GROUPS
from app.flow.conditions import MAX_DEPTH
from app.flow.conditions import OPERATORS
from app.flow.conditions import ValueShape
from app.flow.conditions import evaluate
from app.flow.conditions import referenced_fields
from app.flow.pages import PAGE_BREAK
from app.flow.pages import SUBMIT
from app.flow.piping import piped_keys

CONDITION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
MAX_PAGES = 100
MAX_ROUTES = 20
MAX_CONDITIONS = 100
MAX_LIST_VALUES = 100
MAX_COMBINATIONS = 4096  # answers tried when asking whether a question can ever be shown


@dataclass(frozen=True)
class Problem:
    path: str
    message: str


class _Checker:
    def __init__(self, specs: list[FieldSpec], named: Mapping[str, Any]) -> None:
        self.specs = {spec.key: spec for spec in specs}
        self.named = named
        self.problems: list[Problem] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def condition(
        self, condition: Any, path: str, where: str, allowed: set[str], depth: int = 0
    ) -> None:
        """Check one condition; ``allowed`` are the fields it may read."""
        if not isinstance(condition, dict) or not condition:
            return self.fail(path, f"{where}: a condition must be an object.")
        if depth > MAX_DEPTH:
            return self.fail(path, f"{where}: conditions nest at most {MAX_DEPTH} groups deep.")
        group = [key for key in GROUPS if key in condition]
        if group:
            return self._group(condition, group[0], path, where, allowed, depth)
        if "condition" in condition:
            return self._reference(condition, path, where, allowed)
        self._leaf(condition, path, where, allowed)

    def _group(
        self, condition: dict, group: str, path: str, where: str, allowed: set[str], depth: int
    ) -> None:
        if set(condition) != {group}:
            return self.fail(path, f'{where}: a "{group}" group holds nothing else.')
        inner = condition[group]
        if group == "not":
            return self.condition(inner, f"{path}.not", where, allowed, depth + 1)
        if not isinstance(inner, list) or not inner:
            return self.fail(f"{path}.{group}", f'{where}: "{group}" takes a list of conditions.')
        for index, part in enumerate(inner):
            self.condition(part, f"{path}.{group}[{index}]", where, allowed, depth + 1)

    def _reference(self, condition: dict, path: str, where: str, allowed: set[str]) -> None:
        name = condition["condition"]
        if set(condition) != {"condition"} or name not in self.named:
            return self.fail(f"{path}.condition", f'{where}: no condition is named "{name}".')
        # A named condition is checked where it is used: it may only read what is allowed here.
        where = f'{where} (condition "{name}")'
        self.condition(self.named[name], f"conditions.{name}", where, allowed, 1)

    def _leaf(self, condition: dict, path: str, where: str, allowed: set[str]) -> None:
        unknown = sorted(set(condition) - {"field", "op", "value"})
        if unknown:
            return self.fail(f"{path}.{unknown[0]}", f'{where}: unknown setting "{unknown[0]}".')
        key = condition.get("field")
        spec = self.specs.get(key) if isinstance(key, str) else None
        if spec is None:
            return self.fail(f"{path}.field", f'{where}: no question has the key "{key}".')
        kind = get_field_type(spec.type).condition_kind
        if kind is None:
            return self.fail(f"{path}.field", f'{where}: "{key}" takes no answer to test.')
        if key not in allowed:
            message = (
                f'{where}: "{key}" is not asked before this point; a condition may only use '
                "earlier questions."
            )
            return self.fail(f"{path}.field", message)
        operator = condition.get("op")
        shapes = OPERATORS[kind]
        if operator not in shapes:
            names = ", ".join(shapes)
            return self.fail(f"{path}.op", f'{where}: "{key}" takes these tests: {names}.')
        problem = _value_problem(shapes[operator], condition.get("value"), spec)
        if problem:
            self.fail(f"{path}.value", f'{where}: the value for "{key}" {problem}')


def _choice_values(spec: FieldSpec) -> list[str]:
    return [choice["value"] for choice in spec.rules.get("choices", [])]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _value_problem(shape: ValueShape, value: Any, spec: FieldSpec) -> str | None:
    """What is wrong with ``value`` for an operator taking ``shape``, or None."""
    if shape == "none":
        return None if value is None else "must be left out."
    if shape == "text":
        ok = isinstance(value, str) and 0 < len(value.strip()) <= 500
        return None if ok else "must be text of 1 to 500 characters."
    if shape == "number":
        return None if _is_number(value) else "must be a number."
    if shape == "count":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return None if ok else "must be a whole number, 0 or more."
    if shape in ("choice", "choice_list"):
        return _choice_problem(shape, value, spec)
    single = {"number_pair": _is_number, "day_pair": _is_day, "clock_pair": _is_clock}
    if shape in single:
        ok = isinstance(value, list) and len(value) == 2 and all(map(single[shape], value))
        return None if ok and value[0] <= value[1] else "must be two values, smallest first."
    if shape == "day":
        return None if _is_day(value) else "must be a date written YYYY-MM-DD."
    return None if _is_clock(value) else "must be a time written HH:MM."


def _choice_problem(shape: ValueShape, value: Any, spec: FieldSpec) -> str | None:
    values = value if shape == "choice_list" else [value]
    if shape == "choice_list" and (not isinstance(value, list) or not value):
        return "must be a list of the question's options."
    if len(values) > MAX_LIST_VALUES:
        return f"lists at most {MAX_LIST_VALUES} options."
    known = _choice_values(spec)
    for item in values:
        if item not in known:
            return f'names "{item}", which is not one of its options ({", ".join(known)}).'
    return None


def _is_day(value: Any) -> bool:
    if not isinstance(value, str) or not DAY.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_clock(value: Any) -> bool:
    return isinstance(value, str) and bool(CLOCK.fullmatch(value))


@dataclass
class _DraftPage:
    """A page of a draft: its break (None for a form without breaks) and its questions."""

    number: int
    item: int | None  # the break's index among the draft's items
    spec: FieldSpec | None
    keys: list[str]

    @property
    def id(self) -> str:
        return self.spec.key if self.spec else "page-1"

    @property
    def name(self) -> str:
        title = self.spec.label.strip() if self.spec else ""
        return f'Page {self.number} ("{title[:60]}")' if title else f"Page {self.number}"

    @property
    def path(self) -> str:
        return f"fields[{self.item}]" if self.item is not None else "fields"

    def rule(self, name: str) -> Any:
        return self.spec.rules.get(name) if self.spec else None


def flow_problems(items: list[FieldSpec], named: Any) -> list[Problem]:
    """Every problem of a draft's flow: its page breaks, where they lead, and its conditions.

    ``items`` are the draft's checked fields, page breaks included; ``named`` its named
    conditions. Paths point into the draft (``fields[3].rules.routes[0].if``)."""
    checker = _Checker(
        [item for item in items if item.type != PAGE_BREAK],
        named if isinstance(named, dict) else {},
    )
    if not _check_named(checker, named):
        return checker.problems
    pages = _draft_pages(checker, items)
    if pages is None:
        return checker.problems
    positions = {item.key: index for index, item in enumerate(items)}
    seen: set[str] = set()
    for index in range(len(pages)):
        _check_page_logic(checker, pages, index, positions, seen)
    if not checker.problems:
        _check_reachable(checker, pages)
        _check_can_be_shown(checker, pages, positions)
    _check_piping(checker, pages, positions)
    return checker.problems


def _check_named(checker: _Checker, named: Any) -> bool:
    if named is None:
        return True
    if not isinstance(named, dict) or len(named) > MAX_CONDITIONS:
        checker.fail("conditions", f"conditions must be an object of at most {MAX_CONDITIONS}.")
        return False
    for name, condition in named.items():
        if not CONDITION_NAME.fullmatch(name):
            checker.fail(
                f"conditions.{name}",
                f'The condition name "{name}" must start with a letter and hold only letters, '
                "digits and _ (at most 40).",
            )
        elif isinstance(condition, dict) and "condition" in condition:
            checker.fail(f"conditions.{name}", f'Condition "{name}" cannot use another by name.')
    return not checker.problems


def _field_name(spec: FieldSpec) -> str:
    return f'question "{(spec.label or spec.key)[:60]}"'


def _draft_pages(checker: _Checker, items: list[FieldSpec]) -> list[_DraftPage] | None:
    """The draft's pages, each break starting one; None after a problem."""
    if not any(item.type == PAGE_BREAK for item in items):
        return [_DraftPage(1, None, None, [item.key for item in items])]
    pages: list[_DraftPage] = []
    if items[0].type != PAGE_BREAK:  # questions before the first break: page one
        pages.append(_DraftPage(1, None, None, []))
    for index, item in enumerate(items):
        if item.type == PAGE_BREAK:
            if item.key == SUBMIT:
                checker.fail(f"fields[{index}].key", 'A page cannot be called "submit".')
            pages.append(_DraftPage(len(pages) + 1, index, item, []))
        else:
            pages[-1].keys.append(item.key)
    if len(pages) > MAX_PAGES:
        checker.fail("fields", f"A form has at most {MAX_PAGES} pages.")
    return None if checker.problems else pages


def _check_page_logic(
    checker: _Checker,
    pages: list[_DraftPage],
    index: int,
    positions: dict[str, int],
    seen: set[str],
) -> None:
    """Conditions may read questions of earlier pages (and, for a question or a route, earlier
    ones of this page); routes lead forward only, so no path loops."""
    page = pages[index]
    if page.spec and page.spec.show_if is not None:
        where = f"{page.name}, show if"
        checker.condition(page.spec.show_if, f"{page.path}.show_if", where, set(seen))
    for key in page.keys:
        spec = checker.specs[key]
        if spec.show_if is not None:
            where = f"{page.name}, {_field_name(spec)}, show if"
            path = f"fields[{positions[key]}].show_if"
            checker.condition(spec.show_if, path, where, set(seen))
        seen.add(key)
    routes = page.rule("routes") or []
    if len(routes) > MAX_ROUTES:
        message = f"{page.name}: a page has at most {MAX_ROUTES} rules."
        return checker.fail(f"{page.path}.rules.routes", message)
    later = {other.id for other in pages[index + 1 :]}
    for position, route in enumerate(routes):
        where, path = f"{page.name}, rule {position + 1}", f"{page.path}.rules.routes[{position}]"
        if not isinstance(route, dict) or set(route) != {"if", "goto"}:
            checker.fail(path, f'{where}: a rule is an object with "if" and "goto".')
            continue
        checker.condition(route["if"], f"{path}.if", where, set(seen))
        _check_target(checker, route["goto"], f"{path}.goto", where, pages[: index + 1], later)
    if page.rule("default") is not None:
        where, path = f"{page.name}, otherwise", f"{page.path}.rules.default"
        _check_target(checker, page.rule("default"), path, where, pages[: index + 1], later)


def _check_target(
    checker: _Checker,
    target: Any,
    path: str,
    where: str,
    so_far: list[_DraftPage],
    later: set[str],
) -> None:
    if target == SUBMIT or target in later:
        return
    if any(page.id == target for page in so_far):
        checker.fail(
            path, f'{where}: going back to "{target}" would loop; rules only lead forward.'
        )
    else:
        checker.fail(path, f'{where}: there is no later page "{target}" (or "submit").')


def _check_reachable(checker: _Checker, pages: list[_DraftPage]) -> None:
    reached = {0}
    index_of = {page.id: index for index, page in enumerate(pages)}
    for index, page in enumerate(pages):
        if index not in reached:
            continue
        following = pages[index + 1].id if index + 1 < len(pages) else SUBMIT
        targets = [route["goto"] for route in page.rule("routes") or []]
        targets.append(page.rule("default") or following)
        if page.spec and page.spec.show_if is not None:
            targets.append(following)  # a skipped page leads to the next one
        reached.update(index_of[target] for target in targets if target != SUBMIT)
    for index, page in enumerate(pages):
        if index not in reached:
            checker.fail(page.path, f"{page.name}: no path of answers leads here.")


def _check_piping(checker: _Checker, pages: list[_DraftPage], positions: dict[str, int]) -> None:
    """``{key}`` in a label, help, or a page's title or description must name a question of
    an earlier page: only those answers are known when the page is drawn."""
    earlier: set[str] = set()
    for page in pages:
        texts: list[tuple[str, str, FieldSpec]] = []
        if page.spec is not None:
            texts.append((page.name, page.path, page.spec))
        for key in page.keys:
            spec = checker.specs[key]
            texts.append((f"{page.name}, {_field_name(spec)}", f"fields[{positions[key]}]", spec))
        for where, path, spec in texts:
            for part in ("label", "help"):
                for key in piped_keys(getattr(spec, part)):
                    problem = _piping_problem(checker, key, earlier, page.keys)
                    if problem:
                        checker.fail(f"{path}.{part}", f'{where}: "{{{key}}}" {problem}')
        earlier.update(page.keys)


def _piping_problem(
    checker: _Checker, key: str, earlier: set[str], same_page: list[str]
) -> str | None:
    spec = checker.specs.get(key)
    if spec is None or not get_field_type(spec.type).takes_answer:
        return "names no question of this form."
    if key in earlier:
        return None
    where = "on the same page" if key in same_page else "on a later page"
    return (
        f"shows the answer to {_field_name(spec)}, which is {where}; only answers from "
        "earlier pages can be shown."
    )


def _check_can_be_shown(
    checker: _Checker, pages: list[_DraftPage], positions: dict[str, int]
) -> None:
    """A required question whose condition no answers can meet would stop every respondent
    who reaches its page; tried over every answer when the condition reads only questions
    with few possible answers (choices, consent, files)."""
    for page in pages:
        for key in page.keys:
            spec = checker.specs[key]
            if not spec.required or spec.show_if is None:
                continue
            domains = _answer_domains(checker, spec.show_if)
            if domains is None or _can_hold(spec.show_if, domains, checker.named):
                continue
            checker.fail(
                f"fields[{positions[key]}].show_if",
                f"{page.name}: the required {_field_name(spec)} can never be shown: no "
                "answers meet its condition.",
            )


def _can_hold(condition: Any, domains: dict[str, list[Any]], named: Mapping[str, Any]) -> bool:
    keys = list(domains)
    combinations = itertools.product(*(domains[key] for key in keys))
    for values in itertools.islice(combinations, MAX_COMBINATIONS):
        if evaluate(condition, dict(zip(keys, values, strict=True)), named):
            return True
    return False


def _answer_domains(checker: _Checker, condition: Any) -> dict[str, list[Any]] | None:
    """Every answer each question the condition reads can have; None if one has too many."""
    domains: dict[str, list[Any]] = {}
    for key in referenced_fields(condition, checker.named):
        spec = checker.specs[key]
        kind = get_field_type(spec.type).condition_kind
        options = _choice_values(spec)
        if kind == "choice":
            domains[key] = [None, *options]
        elif kind == "choices" and len(options) <= 8:
            domains[key] = [
                list(subset)
                for size in range(len(options) + 1)
                for subset in itertools.combinations(options, size)
            ]
        elif kind in ("consent", "file"):
            domains[key] = [None, True]
        else:
            return None
    return domains
