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
from typing import Any

from app.fields import FieldSpec
from app.fields import get_field_type
from app.flow.conditions import GROUPS
from app.flow.conditions import MAX_DEPTH
from app.flow.conditions import OPERATORS
from app.flow.conditions import ValueShape
from app.flow.conditions import evaluate
from app.flow.conditions import referenced_fields
from app.flow.pages import SUBMIT

PAGE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
CONDITION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
CLOCK = re.compile(r"\d{2}:\d{2}")
PAGE_KEYS = {"id", "title", "description", "fields", "routes", "default", "show_if"}
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
        self.condition(self.named[name], path, f'{where} (condition "{name}")', allowed, 1)

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
    return isinstance(value, str) and bool(DAY.fullmatch(value))


def _is_clock(value: Any) -> bool:
    return isinstance(value, str) and bool(CLOCK.fullmatch(value))


def flow_problems(specs: list[FieldSpec], pages: Any, named: Any) -> list[Problem]:
    """Every problem of a draft's flow; none for a form without pages or conditions."""
    checker = _Checker(specs, named if isinstance(named, dict) else {})
    if not _check_named(checker, named):
        return checker.problems
    page_list = _check_pages(checker, specs, pages)
    if page_list is None:
        return checker.problems
    seen: set[str] = set()
    for index, page in enumerate(page_list):
        _check_page_logic(checker, page_list, index, page, seen)
    if not checker.problems:
        _check_reachable(checker, page_list)
        _check_can_be_shown(checker, specs, page_list)
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


def _page_name(page: dict, index: int) -> str:
    title = page.get("title") if isinstance(page.get("title"), str) else ""
    return f'Page {index + 1} ("{title.strip()[:60]}")' if title.strip() else f"Page {index + 1}"


def _field_name(spec: FieldSpec) -> str:
    return f'question "{(spec.label or spec.key)[:60]}"'


def _check_pages(checker: _Checker, specs: list[FieldSpec], pages: Any) -> list[dict] | None:
    """The pages as a list of dicts, each field on exactly one; None after a problem."""
    if pages is None:
        return [{"id": "page-1", "fields": [spec.key for spec in specs]}]
    if not isinstance(pages, list) or not 0 < len(pages) <= MAX_PAGES:
        checker.fail("pages", f"pages must be a list of 1 to {MAX_PAGES} pages (or null).")
        return None
    placed: dict[str, int] = {}
    ids: set[str] = set()
    for index, page in enumerate(pages):
        path, name = f"pages[{index}]", _page_name(page if isinstance(page, dict) else {}, index)
        if not isinstance(page, dict):
            checker.fail(path, f"{name} must be an object.")
            continue
        unknown = sorted(set(page) - PAGE_KEYS)
        if unknown:
            checker.fail(f"{path}.{unknown[0]}", f'{name}: unknown setting "{unknown[0]}".')
        page_id = page.get("id")
        if not isinstance(page_id, str) or not PAGE_ID.fullmatch(page_id) or page_id == SUBMIT:
            checker.fail(
                f"{path}.id",
                f'{name} needs an id of lowercase letters, digits, - and _ (not "submit").',
            )
        elif page_id in ids:
            checker.fail(f"{path}.id", f'{name}: the id "{page_id}" is used by another page.')
        ids.add(page_id if isinstance(page_id, str) else "")
        for setting in ("title", "description"):
            if not isinstance(page.get(setting) or "", str):
                checker.fail(f"{path}.{setting}", f"{name}: {setting} must be text.")
        keys = page.get("fields")
        if not isinstance(keys, list):
            checker.fail(f"{path}.fields", f"{name}: fields must be a list of question keys.")
            continue
        for position, key in enumerate(keys):
            where = f"{path}.fields[{position}]"
            if key not in checker.specs:
                checker.fail(where, f'{name}: no question has the key "{key}".')
            elif key in placed:
                checker.fail(where, f'{name}: the question "{key}" is already on another page.')
            else:
                placed[key] = index
    for spec in specs:
        if spec.key not in placed:
            checker.fail("pages", f"The {_field_name(spec)} is on no page; put it on one.")
    return None if checker.problems else pages


def _check_page_logic(
    checker: _Checker, pages: list[dict], index: int, page: dict, seen: set[str]
) -> None:
    """Conditions may read questions of earlier pages (and, for a question or a route, earlier
    ones of this page); routes lead forward only, so no path loops."""
    path, name = f"pages[{index}]", _page_name(page, index)
    if page.get("show_if") is not None:
        checker.condition(page["show_if"], f"{path}.show_if", f"{name}, show if", set(seen))
    for key in page["fields"]:
        spec = checker.specs[key]
        if spec.show_if is not None:
            where = f"{name}, {_field_name(spec)}, show if"
            checker.condition(spec.show_if, f"fields.{key}.show_if", where, set(seen))
        seen.add(key)
    routes = page.get("routes") or []
    if not isinstance(routes, list) or len(routes) > MAX_ROUTES:
        return checker.fail(
            f"{path}.routes", f"{name}: routes must be a list of at most {MAX_ROUTES}."
        )
    later = {other["id"] for other in pages[index + 1 :]}
    for position, route in enumerate(routes):
        where, route_path = f"{name}, rule {position + 1}", f"{path}.routes[{position}]"
        if not isinstance(route, dict) or set(route) != {"if", "goto"}:
            checker.fail(route_path, f'{where}: a rule is an object with "if" and "goto".')
            continue
        checker.condition(route["if"], f"{route_path}.if", where, set(seen))
        _check_target(checker, route["goto"], f"{route_path}.goto", where, pages, index, later)
    if page.get("default") is not None:
        target = page["default"]
        _check_target(checker, target, f"{path}.default", f"{name}, otherwise", pages, index, later)


def _check_target(
    checker: _Checker, target: Any, path: str, where: str, pages: list[dict], index: int,
    later: set[str],
) -> None:  # fmt: skip
    if target == SUBMIT or target in later:
        return
    if any(page["id"] == target for page in pages[: index + 1]):
        checker.fail(
            path, f'{where}: going back to "{target}" would loop; rules only lead forward.'
        )
    else:
        checker.fail(path, f'{where}: there is no page "{target}" (or "submit").')


def _check_reachable(checker: _Checker, pages: list[dict]) -> None:
    reached = {0}
    for index, page in enumerate(pages):
        if index not in reached:
            continue
        targets = [route["goto"] for route in page.get("routes") or []]
        targets.append(page.get("default") or _next_id(pages, index))
        if page.get("show_if") is not None:
            targets.append(_next_id(pages, index))  # a skipped page leads to the next one
        reached.update(_index_of(pages, target) for target in targets if target != SUBMIT)
    for index, page in enumerate(pages):
        if index not in reached:
            checker.fail(
                f"pages[{index}]", f"{_page_name(page, index)}: no path of answers leads here."
            )


def _next_id(pages: list[dict], index: int) -> str:
    return pages[index + 1]["id"] if index + 1 < len(pages) else SUBMIT


def _index_of(pages: list[dict], page_id: str) -> int:
    return next(index for index, page in enumerate(pages) if page["id"] == page_id)


def _check_can_be_shown(checker: _Checker, specs: list[FieldSpec], pages: list[dict]) -> None:
    """A required question whose condition no answers can meet would block every respondent
    who reaches its page; tried over every answer when the condition reads only questions
    with few possible answers (choices, consent, files)."""
    for spec in specs:
        if not spec.required or spec.show_if is None:
            continue
        domains = _answer_domains(checker, spec.show_if)
        if domains is None:
            continue
        keys = list(domains)
        combinations = itertools.product(*(domains[key] for key in keys))
        attempts = itertools.islice(combinations, MAX_COMBINATIONS)
        if not any(
            evaluate(spec.show_if, dict(zip(keys, values, strict=True)), checker.named)
            for values in attempts
        ):
            page = next(index for index, page in enumerate(pages) if spec.key in page["fields"])
            checker.fail(
                f"fields.{spec.key}.show_if",
                f"{_page_name(pages[page], page)}: the required {_field_name(spec)} can never be "
                "shown: no answers meet its condition.",
            )


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
