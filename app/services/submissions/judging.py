"""Which answers count: a version's conditions applied to a validated form.

A question counts only if the respondent was shown it: its page is on the path the answers
lead along, and its own condition holds on the answers before it (app/flow). Its errors count
only then, so a hidden question is never required, and its answer is dropped. Always judged on
the server, over every answer at once: the path a client took counts for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wtforms import Form as WTForm

from app.fields import FieldError
from app.fields import FieldSpec
from app.fields import collect_errors
from app.fields import get_field_type
from app.fields.validators import recorded_answer
from app.flow.pages import Flow
from app.flow.pages import Walk


@dataclass(frozen=True)
class Judged:
    answers: dict[str, Any]  # the shown questions' answers (and a link's hidden values)
    errors: list[FieldError]  # the shown questions' errors
    walk: Walk


def judge(
    bound: WTForm,
    specs: Iterable[FieldSpec],
    flow: Flow,
    earlier: Mapping[str, Any] | None = None,
) -> Judged:
    """Judge a validated form of ``specs`` (a whole version, or one page) together with the
    ``earlier`` answers of other pages; hidden questions lose their errors, on the form too,
    so a page shown again does not mark them."""
    errors = collect_errors(bound)
    failed = {error.key for error in errors}
    answers = dict(earlier or {})
    for spec in specs:
        if get_field_type(spec.type).takes_answer:
            answers.pop(spec.key, None)
            if spec.key not in failed:
                answers[spec.key] = recorded_answer(bound[spec.key])
    walk = flow.walk(answers)
    for key in failed - walk.visible:
        if key in bound:
            bound[key].errors = []
    shown = [error for error in errors if error.key in walk.visible or not error.key]
    return Judged(walk.answers, shown, walk)
