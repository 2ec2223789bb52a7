"""Conditions in words, for a respondent without JavaScript ("Only if you answered …") and for
the builder's flow overview."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.fields.spec import FieldSpec

PHRASES = {
    "equals": "is “{value}”",
    "not_equals": "is not “{value}”",
    "contains": "contains “{value}”",
    "not_contains": "does not contain “{value}”",
    "starts_with": "starts with “{value}”",
    "ends_with": "ends with “{value}”",
    "empty": "is not answered",
    "not_empty": "is answered",
    "eq": "is {value}",
    "ne": "is not {value}",
    "lt": "is less than {value}",
    "lte": "is at most {value}",
    "gt": "is more than {value}",
    "gte": "is at least {value}",
    "between": "is from {low} to {high}",
    "is": "is “{value}”",
    "is_not": "is not “{value}”",
    "any_of": "is one of {values}",
    "none_of": "is none of {values}",
    "includes_any": "includes any of {values}",
    "includes_all": "includes all of {values}",
    "includes_none": "includes none of {values}",
    "count_gte": "has at least {value} chosen",
    "before": "is before {value}",
    "after": "is after {value}",
    "checked": "is ticked",
    "not_checked": "is not ticked",
    "uploaded": "has a file",
    "not_uploaded": "has no file",
}


def describe(
    condition: Mapping[str, Any] | None,
    specs: Mapping[str, FieldSpec],
    named: Mapping[str, Any] | None = None,
) -> str:
    """``condition`` as a sentence fragment: “Member?” is “Yes” and “Age” is at least 18."""
    if condition is None:
        return ""
    if "all" in condition or "any" in condition:
        joiner = " and " if "all" in condition else " or "
        parts = [
            describe(part, specs, named) for part in condition.get("all", condition.get("any"))
        ]
        return joiner.join(
            f"({part})" if " and " in part or " or " in part else part for part in parts
        )
    if "not" in condition:
        return f"not ({describe(condition['not'], specs, named)})"
    if "condition" in condition:
        return describe((named or {}).get(condition["condition"]), specs, None)
    spec = specs.get(condition.get("field"))
    if spec is None:
        return ""
    return f"“{spec.label}” " + _phrase(condition, spec)


def _phrase(condition: Mapping[str, Any], spec: FieldSpec) -> str:
    labels = {choice["value"]: choice["label"] for choice in spec.rules.get("choices", [])}
    value = condition.get("value")

    def shown(item: Any) -> str:
        # A range's value is a list, which is no key: only its ends are shown, as low and high.
        return str(labels.get(item, item)) if isinstance(item, str) else str(item)

    low, high = value if isinstance(value, list) and len(value) == 2 else (None, None)
    values = ", ".join(f"“{shown(item)}”" for item in value) if isinstance(value, list) else ""
    template = PHRASES.get(condition.get("op"), "meets a condition")
    return template.format(value=shown(value), low=low, high=high, values=values)
