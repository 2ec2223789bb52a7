"""Reading a field's builder rules, with messages that say which field and which rule."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any
from typing import NoReturn

from app.exceptions import ValidationFailed

Number = int | float


class RuleReader:
    """Checks one field's ``rules`` object; every failure points at ``<path>.<rule>``."""

    def __init__(self, rules: object, path: str, name: str) -> None:
        if rules is None:
            rules = {}
        if not isinstance(rules, dict):
            raise ValidationFailed(f"{name}: rules must be an object.", field=path)
        self.rules: dict[str, Any] = rules
        self.path = path
        self.name = name

    def fail(self, rule: str, problem: str) -> NoReturn:
        """Raise ``ValidationFailed`` at ``rule``, a rule name or a sub-path like ``choices[2]``."""
        raise ValidationFailed(f"{self.name}: {problem}", field=f"{self.path}.{rule}")

    def allow_only(self, *names: str) -> None:
        """Reject rules this type does not know, so a typo is not silently ignored."""
        unknown = sorted(set(self.rules) - set(names))
        if unknown:
            known = ", ".join(names) or "none"
            self.fail(unknown[0], f'unknown rule "{unknown[0]}" (this type takes: {known}).')

    def given(self, rule: str) -> bool:
        return self.rules.get(rule) is not None

    def integer(self, rule: str, *, default: int | None, low: int, high: int) -> int | None:
        """A whole number from ``low`` to ``high``, or ``default`` when absent."""
        value = self.rules.get(rule)
        if value is None:
            return default
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.fail(rule, f"{rule} must be a whole number from {low} to {high}.")
        return value

    def number(self, rule: str, *, whole: bool = False, limit: float = 1e15) -> Number | None:
        """A finite number (whole when ``whole``) within ``±limit``, or None when absent."""
        value = self.rules.get(rule)
        if value is None:
            return None
        if isinstance(value, float) and whole and value.is_integer():
            value = int(value)
        kinds: tuple[type, ...] = (int,) if whole else (int, float)
        valid = isinstance(value, kinds) and not isinstance(value, bool)
        if not valid or not math.isfinite(value) or abs(value) > limit:
            kind = "a whole number" if whole else "a number"
            self.fail(rule, f"{rule} must be {kind} between -{limit:g} and {limit:g}.")
        return value

    def text(self, rule: str, *, max_chars: int, default: str = "") -> str:
        """A string of at most ``max_chars`` characters, stripped."""
        value = self.rules.get(rule)
        if value is None:
            return default
        if not isinstance(value, str) or len(value.strip()) > max_chars:
            self.fail(rule, f"{rule} must be text of at most {max_chars} characters.")
        return value.strip()

    def one_of(self, rule: str, options: Iterable[str], default: str) -> str:
        """One of ``options``, or ``default`` when absent."""
        value = self.rules.get(rule, default)
        options = tuple(options)
        if value not in options:
            self.fail(rule, f"{rule} must be one of: {', '.join(options)}.")
        return value

    def ordered(self, low_rule: str, high_rule: str, low: Any, high: Any) -> None:
        """Reject a minimum above the maximum."""
        if low is not None and high is not None and low > high:
            self.fail(low_rule, f"{low_rule} must not be greater than {high_rule}.")
