"""Answer piping: ``{key}`` in a question's label or help, or a page's title or description,
shows the respondent's answer to the question ``key`` on an earlier page ("Thanks, {name}").

Only earlier pages' answers can be known when a page is drawn without JavaScript, so a key on
the same or a later page is a publish problem (app/flow/checks.py). The text is plain: the
template escapes it like any label, so an answer can never become markup.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.fields import FieldSpec
from app.fields import get_field_type
from app.fields.upload import is_file_reference
from app.flow.conditions import is_empty

PIPED_KEY = re.compile(r"\{([a-z][a-z0-9_]{0,62})\}")


def piped_keys(text: str) -> list[str]:
    """The keys ``text`` pipes, in order."""
    return PIPED_KEY.findall(text or "")


def pipe(text: str, answers: Mapping[str, Any], specs: Mapping[str, FieldSpec]) -> str:
    """``text`` with each ``{key}`` of a question replaced by its answer as a person reads it
    (a choice by its label, several joined with ", ", a file by its name), or by nothing when
    ``answers`` hold none; braces around anything else stay as written."""
    if "{" not in (text or ""):
        return text

    def answer(match: re.Match[str]) -> str:
        spec = specs.get(match[1])
        if spec is None:
            return match[0]
        value = answers.get(spec.key)
        if is_empty(value):
            return ""
        if is_file_reference(value):
            return value["name"]
        return get_field_type(spec.type).display(value, spec)

    return PIPED_KEY.sub(answer, text)
