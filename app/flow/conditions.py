"""Conditions: a small typed grammar over earlier answers, never code.

A condition is JSON. A leaf compares one field's answer, ``{"field": key, "op": operator,
"value": json}``; groups nest leaves, ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": ...}``;
``{"condition": name}`` uses one named once at form level. The same JSON is evaluated here and,
in the browser, by ``static/js/flow-logic.js``; ``tests/flow/cases.json`` holds both to the
same answers.

Answers are the stored JSON values: text, numbers, choice values, lists of them, ISO dates
(``YYYY-MM-DD``) and times (``HH:MM``), true for a ticked consent, a file's reference. An
answer that is missing, null, empty text, an empty list or an unticked box is *empty*. Every
negative operator is exactly the negation of its positive one, so "is not" holds for an
unanswered question, as in Typeform and Tally.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import Literal

Condition = Mapping[str, Any]
# What an operator's ``value`` must be; checked at publish time (app/flow/checks.py).
ValueShape = Literal[
    "none", "text", "number", "number_pair", "choice", "choice_list", "count", "day", "day_pair",
    "clock", "clock_pair",
]  # fmt: skip
GROUPS = ("all", "any", "not")
MAX_DEPTH = 5  # groups inside groups; deeper than this is refused at publish time

ANSWERED_OPERATORS: dict[str, ValueShape] = {"empty": "none", "not_empty": "none"}
# The operators of each ``condition_kind`` a field type has (app/fields).
OPERATORS: dict[str, dict[str, ValueShape]] = {
    "text": {
        "equals": "text", "not_equals": "text", "contains": "text", "not_contains": "text",
        "starts_with": "text", "ends_with": "text",
    },
    "number": {
        "eq": "number", "ne": "number", "lt": "number", "lte": "number", "gt": "number",
        "gte": "number", "between": "number_pair",
    },
    "choice": {
        "is": "choice", "is_not": "choice", "any_of": "choice_list", "none_of": "choice_list",
    },
    "choices": {
        "includes_any": "choice_list", "includes_all": "choice_list",
        "includes_none": "choice_list", "count_gte": "count",
    },
    "date": {"before": "day", "after": "day", "between": "day_pair"},
    "time": {"before": "clock", "after": "clock", "between": "clock_pair"},
    "consent": {"checked": "none", "not_checked": "none"},
    "file": {"uploaded": "none", "not_uploaded": "none"},
}  # fmt: skip
for _operators in OPERATORS.values():
    _operators.update(ANSWERED_OPERATORS)


def is_empty(answer: Any) -> bool:
    return answer is None or answer == "" or answer == [] or answer is False


def _text(answer: Any) -> str:
    return answer.strip().lower() if isinstance(answer, str) else ""


def _number(answer: Any) -> float | None:
    if isinstance(answer, bool) or not isinstance(answer, int | float):
        return None
    return answer


def _ordered(answer: Any, value: Any) -> bool:
    """Whether ``answer`` and ``value`` can be compared: both numbers, or both text."""
    if _number(answer) is not None and _number(value) is not None:
        return True
    return isinstance(answer, str) and isinstance(value, str) and answer != ""


def _between(answer: Any, value: Any) -> bool:
    if not isinstance(value, list) or len(value) != 2:
        return False
    low, high = value
    return _ordered(answer, low) and _ordered(answer, high) and low <= answer <= high


def _choices(answer: Any) -> list[Any]:
    if isinstance(answer, list):
        return answer
    return [] if is_empty(answer) else [answer]


def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


Test = Callable[[Any, Any], bool]
POSITIVE: dict[str, Test] = {
    "empty": lambda answer, _value: is_empty(answer),
    "equals": lambda answer, value: _text(answer) != "" and _text(answer) == _text(value),
    "contains": lambda answer, value: _text(answer) != "" and _text(value) in _text(answer),
    "starts_with": lambda answer, value: (
        _text(answer) != "" and _text(answer).startswith(_text(value))
    ),
    "ends_with": lambda answer, value: _text(answer) != "" and _text(answer).endswith(_text(value)),
    "eq": lambda answer, value: _number(answer) is not None and answer == value,
    "lt": lambda answer, value: (
        _number(answer) is not None and _ordered(answer, value) and answer < value
    ),
    "lte": lambda answer, value: (
        _number(answer) is not None and _ordered(answer, value) and answer <= value
    ),
    "gt": lambda answer, value: (
        _number(answer) is not None and _ordered(answer, value) and answer > value
    ),
    "gte": lambda answer, value: (
        _number(answer) is not None and _ordered(answer, value) and answer >= value
    ),
    "between": _between,
    "is": lambda answer, value: not is_empty(answer) and answer == value,
    "any_of": lambda answer, value: not is_empty(answer) and answer in _values(value),
    "includes_any": lambda answer, value: any(item in _choices(answer) for item in _values(value)),
    "includes_all": lambda answer, value: all(item in _choices(answer) for item in _values(value)),
    "count_gte": lambda answer, value: (
        _number(value) is not None and len(_choices(answer)) >= value
    ),
    "before": lambda answer, value: _ordered(answer, value) and answer < value,
    "after": lambda answer, value: _ordered(answer, value) and answer > value,
    "checked": lambda answer, _value: answer is True,
    "uploaded": lambda answer, _value: not is_empty(answer),
}
NEGATIVE: dict[str, str] = {
    "not_empty": "empty",
    "not_equals": "equals",
    "not_contains": "contains",
    "ne": "eq",
    "is_not": "is",
    "none_of": "any_of",
    "includes_none": "includes_any",
    "not_checked": "checked",
    "not_uploaded": "uploaded",
}


def evaluate(
    condition: Condition | None,
    answers: Mapping[str, Any],
    named: Mapping[str, Condition] | None = None,
) -> bool:
    """Whether ``condition`` holds for ``answers``; no condition always holds.

    The condition is assumed checked (publish time); an unknown operator or name holds
    nothing rather than raising, so an old version never breaks a page."""
    if condition is None:
        return True
    if "all" in condition:
        return all(evaluate(part, answers, named) for part in condition["all"])
    if "any" in condition:
        return any(evaluate(part, answers, named) for part in condition["any"])
    if "not" in condition:
        return not evaluate(condition["not"], answers, named)
    if "condition" in condition:
        target = (named or {}).get(condition["condition"])
        return target is not None and evaluate(target, answers, None)
    return _leaf(condition, answers)


def _leaf(condition: Condition, answers: Mapping[str, Any]) -> bool:
    operator = condition.get("op")
    answer = answers.get(condition.get("field"))
    value = condition.get("value")
    if operator in NEGATIVE:
        return not POSITIVE[NEGATIVE[operator]](answer, value)
    test = POSITIVE.get(operator)
    return test is not None and bool(test(answer, value))


def referenced_fields(
    condition: Condition | None, named: Mapping[str, Condition] | None = None
) -> set[str]:
    """The field keys ``condition`` reads, through named conditions too."""
    if condition is None or not isinstance(condition, Mapping):
        return set()
    for group in ("all", "any"):
        if isinstance(condition.get(group), list):
            return set().union(*(referenced_fields(part, named) for part in condition[group]))
    if "not" in condition:
        return referenced_fields(condition["not"], named)
    if "condition" in condition:
        return referenced_fields((named or {}).get(condition["condition"]), None)
    field = condition.get("field")
    return {field} if isinstance(field, str) else set()
