"""The "check your answers" page: every question a respondent's answers show, with the
answer as they read it and the page to change it on (GOV.UK's pattern)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

from app.fields import get_field_type
from app.flow.conditions import is_empty
from app.flow.piping import pipe
from app.models import PartialResponse
from app.services.submissions.paging import partial_flow
from app.services.submissions.versions import is_shown_question
from app.services.submissions.versions import version_specs


@dataclass(frozen=True)
class CheckedAnswer:
    key: str
    label: str
    answer: str  # as the respondent reads it; empty when not answered
    page_id: str  # where to change it


@dataclass
class CheckedPage:
    title: str
    answers: list[CheckedAnswer] = field(default_factory=list)


def answers_to_check(partial: PartialResponse) -> list[CheckedPage]:
    """The partial's answers along the path they take, by page of the version: hidden
    questions are left out, as the final submit leaves out their answers."""
    flow = partial_flow(partial)
    walk = flow.walk(partial.answers)
    specs = {spec.key: spec for spec in version_specs(partial.version_id)}
    pages: dict[str, CheckedPage] = {}
    for page_id in walk.path:
        page = flow.page(page_id)
        title = pipe(page.title, walk.answers, specs)
        checked = pages.setdefault(page.version_page_id, CheckedPage(title))
        for key in page.keys:
            spec = specs[key]
            if key not in walk.visible or not is_shown_question(spec):
                continue
            value = walk.answers.get(key)
            answer = "" if is_empty(value) else get_field_type(spec.type).display(value, spec)
            label = pipe(spec.label, walk.answers, specs)
            checked.answers.append(CheckedAnswer(key, label, answer, page_id))
    return [page for page in pages.values() if page.answers]
