"""The builder's logic editors: a question's or a page's show-if and a page's routes, built
from an editor's plain inputs, checked with the publish checks and stored in the draft.

An editor holds a list of tests (``field``, ``op``, a value) joined by "all" or "any": the
conditions people make by hand. Anything else (nested groups, "not", a named condition) is
too complex for it, so it is shown in words and replaced or removed whole, never rewritten.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from app.exceptions import InputsInvalid
from app.exceptions import NotFound
from app.fields import FieldSpec
from app.fields import get_field_type
from app.fields import parse_field_specs
from app.flow.checks import flow_problems
from app.flow.conditions import OPERATORS
from app.flow.conditions import ValueShape
from app.flow.pages import PAGE_BREAK
from app.models import Form
from app.services.forms.editing import field_index
from app.services.forms.editing import save_fields

JOINS = ("all", "any")
MAX_TESTS = 20
# An operator's name in the editor; "before", "after" and "between" serve dates, times and
# numbers alike.
OPERATOR_LABELS: dict[str, str] = {
    "equals": "is",
    "not_equals": "is not",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "ends_with": "ends with",
    "empty": "is not answered",
    "not_empty": "is answered",
    "eq": "is equal to (=)",
    "ne": "is not equal to (≠)",
    "lt": "is less than (<)",
    "lte": "is at most (≤)",
    "gt": "is more than (>)",
    "gte": "is at least (≥)",
    "between": "is between (inclusive)",
    "is": "is",
    "is_not": "is not",
    "any_of": "is one of",
    "none_of": "is none of",
    "includes_any": "includes any of",
    "includes_all": "includes all of",
    "includes_none": "includes none of",
    "count_gte": "has at least this many chosen",
    "before": "is before",
    "after": "is after",
    "checked": "is ticked",
    "not_checked": "is not ticked",
    "uploaded": "has a file",
    "not_uploaded": "has no file",
}
MISSING_VALUE: dict[ValueShape, str] = {
    "text": "Type the text to compare with.",
    "number": "Type a number.",
    "number_pair": "Type both ends of the range.",
    "choice": "Choose one of the options.",
    "choice_list": "Tick one or more options.",
    "count": "Type how many.",
    "day": "Give a date.",
    "day_pair": "Give both dates.",
    "clock": "Give a time.",
    "clock_pair": "Give both times.",
}
PROBLEM_INPUT = re.compile(r"(?:\.(?:all|any)\[(?P<index>\d+)\])?\.(?P<part>field|op|value)\b")


@dataclass
class LeafInput:
    """One test as typed: the question's key, the operator and its value (``value`` and
    ``value_to`` for text, numbers, dates and ranges; ``choice`` or ``choices`` for options)."""

    field: str
    op: str = ""
    value: str = ""
    value_to: str = ""
    choice: str = ""
    choices: list[str] = field(default_factory=list)


@dataclass
class ConditionInput:
    join: str = "all"
    leaves: list[LeafInput] = field(default_factory=list)


def operators_of(spec: FieldSpec | None) -> dict[str, ValueShape]:
    """The operators a condition on ``spec`` may use, with the shape of their value."""
    kind = get_field_type(spec.type).condition_kind if spec else None
    return OPERATORS[kind] if kind else {}


def value_shape(spec: FieldSpec | None, op: str) -> ValueShape | None:
    return operators_of(spec).get(op)


def choice_options(spec: FieldSpec | None) -> list[tuple[str, str]]:
    """The options of a choice question, as (value, label)."""
    choices = spec.rules.get("choices", []) if spec else []
    return [(choice["value"], choice["label"]) for choice in choices]


# --- reading stored conditions into the editor ---------------------------------------------


def editor_input(condition: Any) -> ConditionInput | None:
    """The editor's inputs for a stored condition; None when it is too complex for the editor
    (nested groups, "not", a named condition), and an empty editor for no condition."""
    if condition is None:
        return ConditionInput()
    if not isinstance(condition, Mapping):
        return None
    join = next((name for name in JOINS if name in condition), None)
    parts = condition[join] if join else [condition]
    if join and (set(condition) != {join} or not isinstance(parts, list)):
        return None
    leaves = [_leaf_input(part) for part in parts]
    if not leaves or any(leaf is None for leaf in leaves):
        return None
    return ConditionInput(join or "all", leaves)  # type: ignore[arg-type]


def _leaf_input(part: Any) -> LeafInput | None:
    if not isinstance(part, Mapping) or not set(part) <= {"field", "op", "value"}:
        return None
    if not isinstance(part.get("field"), str) or not isinstance(part.get("op"), str):
        return None
    leaf = LeafInput(part["field"], part["op"])
    value = part.get("value")
    if part["op"] == "between":
        low, high = value if isinstance(value, list) and len(value) == 2 else ("", "")
        leaf.value, leaf.value_to = _shown(low), _shown(high)
    elif isinstance(value, list):
        leaf.choices = [str(item) for item in value]
    elif value is not None:
        leaf.value = leaf.choice = _shown(value)
    return leaf


def _shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


# --- building a condition from the editor --------------------------------------------------


def build_condition(
    specs: Mapping[str, FieldSpec], editor: ConditionInput
) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """The condition the editor's inputs say (None for no tests), and the inputs' own errors:
    a test that does not fit its question, a value left out. Whether the questions may be
    used, and the values themselves, are for the publish checks."""
    errors: dict[str, list[str]] = {}
    if editor.join not in JOINS:
        errors["join"] = ['Choose "all" or "any".']
    if len(editor.leaves) > MAX_TESTS:
        errors[""] = [f"A condition holds at most {MAX_TESTS} tests."]
    leaves = []
    for index, leaf in enumerate(editor.leaves):
        spec = specs.get(leaf.field)
        operators = operators_of(spec)
        if spec is not None and operators and leaf.op not in operators:
            names = ", ".join(f"“{OPERATOR_LABELS[name]}”" for name in operators)
            message = f"Choose a test that fits “{spec.label}”: {names}."
            errors[f"leaves[{index}].op"] = [message]
            continue
        shape = operators.get(leaf.op)
        value = _typed_value(shape, leaf) if shape else None
        if shape and shape != "none" and value in (None, "", [], [None, None]):
            errors[f"leaves[{index}].value"] = [MISSING_VALUE[shape]]
        leaves.append({"field": leaf.field, "op": leaf.op, "value": value})
    if not leaves:
        return None, errors
    return (leaves[0] if len(leaves) == 1 else {editor.join: leaves}), errors


def _typed_value(shape: ValueShape, leaf: LeafInput) -> Any:
    """The value as JSON for ``shape``; what cannot be read is passed on as typed, for the
    publish checks to refuse with their message."""
    if shape == "none":
        return None
    if shape == "choice":
        chosen = leaf.choice or (leaf.choices[0] if len(leaf.choices) == 1 else "")
        return chosen or None
    if shape == "choice_list":
        return list(leaf.choices) or ([leaf.choice] if leaf.choice else [])
    if shape in ("number", "count"):
        return _number(leaf.value)
    if shape == "number_pair":
        low, high = _number(leaf.value), _number(leaf.value_to)
        return None if low is None and high is None else [low, high]
    if shape in ("day_pair", "clock_pair"):
        low, high = leaf.value.strip(), leaf.value_to.strip()
        return [low, high] if low or high else None
    if shape == "text":
        return leaf.value or None
    return leaf.value.strip() or None  # a day or a clock time


def _number(text: str) -> int | float | str | None:
    text = text.strip()
    if not text:
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


# --- storing, checked -----------------------------------------------------------------------


def save_show_if(form: Form, key: str, editor: ConditionInput | None) -> dict[str, Any] | None:
    """Set (or with ``editor`` None or without tests, remove) the show-if of a question or a
    page break; refused with every input's error, storing nothing, when the publish checks
    find a problem in it. Returns the stored condition."""
    index = field_index(form, key)
    items = copy.deepcopy(form.draft_fields)
    condition, errors = build_condition(_question_specs(form), editor or ConditionInput())
    items[index]["show_if"] = condition
    _store_checked(form, items, f"fields[{index}].show_if", "", errors)
    return condition


def remove_show_if(form: Form, key: str) -> None:
    save_show_if(form, key, None)


def _page_index(form: Form, page_key: str) -> int:
    index = field_index(form, page_key)
    if form.draft_fields[index]["type"] != PAGE_BREAK:
        raise NotFound("No such page.")
    return index


def _routes(item: dict[str, Any]) -> list[dict[str, Any]]:
    return list((item.get("rules") or {}).get("routes") or [])


def page_routes(form: Form, page_key: str) -> list[dict[str, Any]]:
    return _routes(form.draft_fields[_page_index(form, page_key)])


def _route_position(routes: list[Any], position: int) -> int:
    if not 0 <= position < len(routes):
        raise NotFound("No such rule.")
    return position


def save_route(
    form: Form, page_key: str, position: int | None, editor: ConditionInput, goto: str
) -> int:
    """Add (``position`` None) or replace a rule of a page break: "if the condition holds, go
    to ``goto``" (a later page's key, or "submit"). Returns the rule's position."""
    index = _page_index(form, page_key)
    items = copy.deepcopy(form.draft_fields)
    routes = _routes(items[index])
    condition, errors = build_condition(_question_specs(form), editor)
    if not goto:
        errors["goto"] = ["Choose where the rule leads."]
    if not editor.leaves:
        errors[""] = [
            "A rule needs at least one test. To always go somewhere, set where the page leads "
            "otherwise."
        ]
    if position is None:
        position = len(routes)
        routes.append({})
    routes[_route_position(routes, position)] = {"if": condition, "goto": goto}
    items[index].setdefault("rules", {})["routes"] = routes
    _store_checked(form, items, f"fields[{index}].rules.routes[{position}]", ".if", errors)
    return position


def delete_route(form: Form, page_key: str, position: int) -> None:
    index = _page_index(form, page_key)
    items = copy.deepcopy(form.draft_fields)
    routes = _routes(items[index])
    routes.pop(_route_position(routes, position))
    items[index].setdefault("rules", {})["routes"] = routes
    save_fields(form, items)


def move_route(form: Form, page_key: str, position: int, offset: int) -> int:
    """Move a rule up (negative) or down; rules are tried in order. Returns where it is now."""
    index = _page_index(form, page_key)
    items = copy.deepcopy(form.draft_fields)
    routes = _routes(items[index])
    _route_position(routes, position)
    target = min(max(position + offset, 0), len(routes) - 1)
    routes.insert(target, routes.pop(position))
    items[index].setdefault("rules", {})["routes"] = routes
    save_fields(form, items)
    return target


def set_default_route(form: Form, page_key: str, target: str | None) -> None:
    """Where a page leads when no rule holds: a later page's key, "submit", or None for the
    next page in order."""
    index = _page_index(form, page_key)
    items = copy.deepcopy(form.draft_fields)
    items[index].setdefault("rules", {})["default"] = target or None
    _store_checked(form, items, f"fields[{index}].rules.default", "", {})


def _question_specs(form: Form) -> dict[str, FieldSpec]:
    return {spec.key: spec for spec in form.draft_specs if spec.type != PAGE_BREAK}


def _store_checked(
    form: Form,
    items: list[dict[str, Any]],
    at: str,
    condition_at: str,
    errors: dict[str, list[str]],
) -> None:
    """Store ``items`` unless the editor's inputs or the publish checks of what lies at path
    ``at`` (its condition at ``at + condition_at``) find a problem."""
    if not errors:
        problems = flow_problems(parse_field_specs(items), form.draft_conditions)
        for problem in problems:
            if problem.path == at or problem.path.startswith((f"{at}.", f"{at}[")):
                name = _input_of(problem.path.removeprefix(at), condition_at)
                errors.setdefault(name, []).append(problem.message)
    if errors:
        raise InputsInvalid(errors)
    save_fields(form, items)


def _input_of(rest: str, condition_at: str) -> str:
    """The editor's input a problem at ``rest`` (a path under the edited item) concerns."""
    if rest == ".goto":
        return "goto"
    if rest == "" and condition_at == "":
        return ""
    if not rest.startswith(condition_at):
        return ""
    match = PROBLEM_INPUT.match(rest.removeprefix(condition_at))
    if match is None:
        return ""
    return f"leaves[{match.group('index') or 0}].{match.group('part')}"


# --- what an editor may choose from ---------------------------------------------------------


def questions_before(form: Form, key: str, *, through_page: bool = False) -> list[FieldSpec]:
    """The questions a condition at ``key`` may test: those asked before it (for a page
    break's rules, ``through_page``, its own page's questions too), that take an answer."""
    specs = form.draft_specs
    end = field_index(form, key)
    if through_page:
        end += 1
        while end < len(specs) and specs[end].type != PAGE_BREAK:
            end += 1
    return [spec for spec in specs[:end] if operators_of(spec)]


def later_pages(form: Form, page_key: str) -> list[FieldSpec]:
    """The page breaks after ``page_key``: where its rules may lead (besides submit)."""
    specs = form.draft_specs
    start = _page_index(form, page_key)
    return [spec for spec in specs[start + 1 :] if spec.type == PAGE_BREAK]
