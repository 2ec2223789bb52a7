"""How the builder asks for a type's settings: declarations only, no HTML and no checking.

The builder renders one input per ``RuleInput`` and sends what was typed to the registry,
which checks it (``FieldType.check_rules``) and answers with messages at ``rules.<name>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# integer, number: a number box; text: one line; date: a date picker; select: one of options;
# choices: the options of a choice question, one per line; checkboxes: any of options.
RuleInputKind = Literal["integer", "number", "text", "date", "select", "choices", "checkboxes"]
# How the builder asks for a default answer: one line, one value per line, or not at all.
DefaultInput = Literal["text", "lines"] | None


@dataclass(frozen=True)
class RuleInput:
    """One rule the builder shows an input for; ``name`` is the key in ``FieldSpec.rules``."""

    name: str
    label: str
    kind: RuleInputKind
    help: str = ""
    options: tuple[tuple[str, str], ...] = ()  # (value, label) for select and checkboxes
