"""A field as the builder defined it, stored inside an immutable published form version."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from dataclasses import field
from typing import Any


@dataclass(frozen=True)
class FieldSpec:
    """One field of a form version. ``rules`` are the type's own settings."""

    key: str
    type: str
    label: str
    help: str = ""
    placeholder: str = ""
    required: bool = False
    default: Any = field(default=None, hash=False)
    rules: dict[str, Any] = field(default_factory=dict, hash=False)
    # Reserved for conditional logic and multi-page forms: kept as given, no behaviour yet.
    show_if: Any = field(default=None, hash=False)
    page: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able form stored in a form version."""
        return {
            "key": self.key,
            "type": self.type,
            "label": self.label,
            "help": self.help,
            "placeholder": self.placeholder,
            "required": self.required,
            "default": copy.deepcopy(self.default),
            "rules": copy.deepcopy(self.rules),
            "show_if": copy.deepcopy(self.show_if),
            "page": self.page,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FieldSpec:
        """Load a spec that was checked when its version was published.

        It is not checked again, so a rule tightened later never breaks an old version.
        """
        return cls(
            key=data["key"],
            type=data["type"],
            label=data.get("label", ""),
            help=data.get("help", ""),
            placeholder=data.get("placeholder", ""),
            required=bool(data.get("required", False)),
            default=copy.deepcopy(data.get("default")),
            rules=copy.deepcopy(data.get("rules") or {}),
            show_if=copy.deepcopy(data.get("show_if")),
            page=int(data.get("page") or 0),
        )
