"""A form with pages, one page at a time: the respondent's partial response, each page's
answers judged as they come, Back, and the final submit that judges them all again.

The answers so far live on the server in a ``PartialResponse``, found by a random token in
the browser's cookie (stored only as its SHA-256), pinned to the version the respondent
started on. Only pages on its path may be posted, so a client cannot skip ahead; the final
submit walks every answer from the first page, so a question its path never shows is never
stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime
from datetime import timedelta
from typing import Any
from typing import Literal

from flask import render_template
from sqlalchemy import delete
from sqlalchemy import inspect
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import Form as WTForm

from app.exceptions import FormUnavailable
from app.exceptions import PageNotReached
from app.exceptions import SubmissionInvalid
from app.exceptions import ValidationFailed
from app.extensions import db
from app.fields import FieldError
from app.fields import FieldSpec
from app.fields import UploadedFile
from app.fields import get_field_type
from app.fields.upload import is_file_reference
from app.fields.validators import record_answer
from app.flow.conditions import is_empty
from app.flow.pages import SUBMIT
from app.flow.pages import Flow
from app.flow.pages import Walk
from app.models import Availability
from app.models import DeliveryKind
from app.models import DeliveryTrigger
from app.models import Form
from app.models import PartialResponse
from app.models import StoredFile
from app.models.types import utcnow
from app.services.delivery import outbox
from app.services.delivery.mail import email_payload
from app.services.spam import SpamVerdict
from app.services.spam import judge_spam
from app.services.submissions import storage
from app.services.submissions.accepting import Accepted
from app.services.submissions.accepting import assess_spam
from app.services.submissions.accepting import check_can_submit
from app.services.submissions.accepting import form_wording
from app.services.submissions.accepting import store_answers
from app.services.submissions.judging import judge
from app.services.submissions.posted import HONEYPOT_FIELD
from app.services.submissions.posted import SubmissionContext
from app.services.submissions.posted import special_fields
from app.services.submissions.versions import bind_form
from app.services.submissions.versions import is_shown_question
from app.services.submissions.versions import page_form_class
from app.services.submissions.versions import version_flow
from app.services.submissions.versions import version_specs

# Without "save and resume", a respondent's answers wait this long between two pages.
UNSAVED_DAYS = 7
# The "check your answers" page's place on a path: no page id can hold a "-" but page-1.
CHECK_ANSWERS = "check-answers"


Action = Literal["continue", "back", "save"]


@dataclass(frozen=True)
class Step:
    """Where a posted page leads: the next page to show, or the stored submission."""

    next_page: str | None = None
    accepted: Accepted | None = None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_partial(form: Form, browser_token: str | None) -> PartialResponse | None:
    """The respondent's answers so far, if their cookie names some that have not expired."""
    if not browser_token:
        return None
    query = select(PartialResponse).where(
        PartialResponse.browser_token_hash == token_hash(browser_token),
        PartialResponse.form_id == form.id,
        PartialResponse.expires_at > utcnow(),
    )
    return db.session.scalar(query)


def partial_flow(partial: PartialResponse) -> Flow:
    """The pages a partial response goes through: its version's, one question at a time if
    the form showed them so when it started (kept like the version, so changing the setting
    never moves a respondent off their page)."""
    return version_flow(partial.version_id, partial.one_question_per_page)


def start_partial(form: Form, context: SubmissionContext) -> tuple[PartialResponse, str]:
    """A new partial response on the form's published version, at its first page; and the
    token for the browser's cookie."""
    check_can_submit(form, context)
    version_id = form.published_version_id
    if version_id is None or not version_specs(version_id):
        raise FormUnavailable(Availability.DRAFT)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    partial = PartialResponse(
        form_id=form.id,
        version_id=version_id,
        answers={},
        path=[version_flow(version_id, form.one_question_per_page).pages[0].id],
        one_question_per_page=form.one_question_per_page,
        browser_token_hash=token_hash(token),
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(days=_keep_days(form)),
    )
    # Added, not flushed: written once with the first page's answers, or never, when that
    # page is also the last (discard).
    db.session.add(partial)
    return partial, token


def _keep_days(form: Form) -> int:
    return form.resume_days if form.allow_saving else UNSAVED_DAYS


def answer_page(
    form: Form,
    partial: PartialResponse,
    page_id: str,
    data: MultiDict,
    files: MultiDict,
    context: SubmissionContext,
    *,
    action: Action = "continue",
) -> Step:
    """Judge the answers to one page and say where they lead; the last page's lead to the
    final submit, or first to the "check your answers" page when the form has one. Going
    back, or saving to go on later, keeps the page's valid answers and requires nothing."""
    if page_id not in partial.path:
        raise PageNotReached("This page comes later in the form. Start from its first page.")
    check_can_submit(form, context)
    if data.get(HONEYPOT_FIELD, "").strip():
        spam = judge_spam([], form.spam_threshold, honeypot=True)
        return Step(accepted=finish(form, partial, context, data, spam=spam))
    if page_id == CHECK_ANSWERS:
        return _leave_check_page(form, partial, context, data, action)
    flow = partial_flow(partial)
    if flow.page(page_id) is None:
        raise PageNotReached("This page is no longer in the form. Go back to its last page.")
    form_class = page_form_class(partial.version_id, page_id, partial.one_question_per_page)
    bound = bind_form(form_class, data, files)
    bound.validate()
    page_keys = set(flow.page(page_id).keys)
    specs = [spec for spec in version_specs(partial.version_id) if spec.key in page_keys]
    _keep_earlier_files(bound, specs, partial.answers)
    judged = judge(bound, specs, flow, earlier=partial.answers)
    if judged.errors and action == "continue":
        raise SubmissionInvalid(judged.errors, bound)
    _keep_page_answers(form, partial, page_keys, judged.answers)
    position = partial.path.index(page_id)
    if action == "back":
        partial.path = partial.path[: max(position, 1)]
        return _saved(partial, Step(next_page=partial.path[-1]))
    if action == "save":
        partial.path = partial.path[: position + 1]
        return _saved(partial, Step(next_page=page_id))
    walk = judged.walk
    if _may_return_to_check(partial, walk):
        return _saved(partial, Step(next_page=CHECK_ANSWERS))
    index = walk.path.index(page_id) if page_id in walk.path else len(walk.path) - 1
    next_page = walk.path[index + 1] if index + 1 < len(walk.path) else SUBMIT
    if next_page == SUBMIT and form.check_answers:
        next_page = CHECK_ANSWERS
    if next_page == SUBMIT:
        return Step(accepted=finish(form, partial, context, data))
    partial.path = [*walk.path[: index + 1], next_page]
    return _saved(partial, Step(next_page=next_page))


def _keep_earlier_files(bound: WTForm, specs: list[FieldSpec], earlier: dict[str, Any]) -> None:
    """A file question answered before and posted again without a new file keeps its file:
    a browser cannot send the stored file back, so Back and Continue would otherwise lose it
    (and a required one would ask for it again)."""
    for spec in specs:
        field_type = get_field_type(spec.type)
        kept = earlier.get(spec.key)
        if not (field_type.takes_upload and is_file_reference(kept)):
            continue
        field = bound[spec.key]
        if field_type.is_empty(field.data):
            field.errors = []
            field.error_codes = {}
            record_answer(field, kept)


def _may_return_to_check(partial: PartialResponse, walk: Walk) -> bool:
    """Whether a page changed from the "check your answers" page leads straight back to it:
    the answers still take the same path, and every question they show is answered."""
    if not partial.path or partial.path[-1] != CHECK_ANSWERS:
        return False
    same_path = walk.complete and list(walk.path) == partial.path[:-1]
    if not same_path or _missing_answers(partial.version_id, walk.visible, walk.answers):
        return False
    partial.path = [*walk.path, CHECK_ANSWERS]
    return True


def _leave_check_page(
    form: Form,
    partial: PartialResponse,
    context: SubmissionContext,
    data: MultiDict,
    action: Action,
) -> Step:
    """The "check your answers" page's buttons: send (judging every answer again), go back
    to the last page, or save to finish later."""
    if action == "back":
        partial.path = partial.path[:-1]
        return _saved(partial, Step(next_page=partial.path[-1]))
    if action == "save":
        return _saved(partial, Step(next_page=CHECK_ANSWERS))
    return Step(accepted=finish(form, partial, context, data))


def _keep_page_answers(
    form: Form, partial: PartialResponse, page_keys: set[str], judged: dict[str, Any]
) -> None:
    """The page's answers replace what it held before; a new file is stored now, and its
    reference kept. Other pages' answers stay, even those off the current path, so a
    respondent who changes their mind and back retypes nothing."""
    answers = {key: value for key, value in partial.answers.items() if key not in page_keys}
    for key in page_keys & judged.keys():
        value = judged[key]
        answers[key] = (
            storage.save_upload(form.id, key, value) if isinstance(value, UploadedFile) else value
        )
    partial.answers = answers


def _saved(partial: PartialResponse, step: Step) -> Step:
    now = utcnow()
    partial.updated_at = now
    db.session.commit()
    return step


def finish(
    form: Form,
    partial: PartialResponse,
    context: SubmissionContext,
    data: MultiDict,
    *,
    spam: SpamVerdict | None = None,
) -> Accepted:
    """The final submit: walk every answer from the first page again, check every question
    shown, and store one submission pinned to the partial's version, with the path taken.
    Scored on its answers and the last post; not on its pages' times, which one question at
    a time makes short."""
    flow = partial_flow(partial)
    walk = flow.walk(partial.answers)
    if spam is None:
        missing = _missing_answers(partial.version_id, walk.visible, walk.answers)
        if missing:
            raise SubmissionInvalid(missing)
        untimed = context.signals and replace(context.signals, token=None, page_age_seconds=None)
        spam = assess_spam(
            form,
            walk.answers,
            replace(context, signals=untimed),
            form_wording(form, partial.version_id),
        )
    meta = special_fields(data, context, frozenset())
    meta["path"] = flow.version_path(walk.path)
    _discard(partial)
    return store_answers(form, partial.version_id, walk.answers, meta, context, spam=spam)


def _discard(partial: PartialResponse) -> None:
    """Delete the partial; one that this same post started was never written: forget it."""
    if inspect(partial).pending:
        db.session.expunge(partial)
    else:
        db.session.delete(partial)


def _missing_answers(
    version_id: int, visible: frozenset[str], answers: dict[str, Any]
) -> list[FieldError]:
    return [
        FieldError(spec.key, "REQUIRED_FIELD_MISSING", get_field_type(spec.type).required_message)
        for spec in version_specs(version_id)
        if spec.required and spec.key in visible and is_empty(answers.get(spec.key))
    ]


def page_of(partial: PartialResponse, key: str) -> str:
    """The page of the partial's flow that asks ``key``."""
    return next(page.id for page in partial_flow(partial).pages if key in page.keys)


def current_page(partial: PartialResponse) -> str:
    """Where the respondent is: the last page of their path, or, should that page not be in
    their flow (a path from another display), the first page of their answers' path with an
    unanswered question, which then ends their path."""
    flow = partial_flow(partial)
    page_id = partial.path[-1] if partial.path else None
    if page_id == CHECK_ANSWERS or (page_id and flow.page(page_id)):
        return page_id
    walk = flow.walk(partial.answers)
    unanswered = next(
        (
            index
            for index, path_page in enumerate(walk.path)
            if _has_unanswered(partial, flow.page(path_page).keys, walk.visible)
        ),
        len(walk.path) - 1,
    )
    partial.path = list(walk.path[: unanswered + 1])
    db.session.commit()
    return partial.path[-1]


def _has_unanswered(
    partial: PartialResponse, keys: tuple[str, ...], visible: frozenset[str]
) -> bool:
    """Whether a page shows a question never answered, or a required one left empty."""
    answers = partial.answers
    return any(
        is_shown_question(spec)
        and spec.key in visible
        and (spec.key not in answers or (spec.required and is_empty(answers[spec.key])))
        for spec in version_specs(partial.version_id)
        if spec.key in keys
    )


# --- save and resume ------------------------------------------------------------------------


def save_for_later(form: Form, partial: PartialResponse) -> str:
    """A new resume link's token for the partial (an earlier link stops working), valid for
    the form's resume period from now. Shown once: only its hash is kept."""
    if not form.allow_saving:
        raise PageNotReached("This form does not keep answers to finish later.")
    token = secrets.token_urlsafe(32)
    partial.resume_token_hash = token_hash(token)
    partial.expires_at = utcnow() + timedelta(days=form.resume_days)
    db.session.commit()
    return token


def partial_for_resume(form: Form, resume_token: str) -> PartialResponse:
    query = select(PartialResponse).where(
        PartialResponse.resume_token_hash == token_hash(resume_token),
        PartialResponse.form_id == form.id,
        PartialResponse.expires_at > utcnow(),
    )
    partial = db.session.scalar(query)
    if partial is None:
        raise PageNotReached(
            "This link has expired, or the answers it kept were sent already. Start the form "
            "again from its first page."
        )
    return partial


def resume(form: Form, resume_token: str) -> tuple[PartialResponse, str]:
    """The partial a resume link keeps, now this browser's (in any browser: the link is the
    key); the token for the browser's cookie."""
    partial = partial_for_resume(form, resume_token)
    browser_token = secrets.token_urlsafe(32)
    partial.browser_token_hash = token_hash(browser_token)
    partial.updated_at = utcnow()
    db.session.commit()
    return partial, browser_token


def resume_address(partial: PartialResponse) -> str | None:
    """Where a resume link may be emailed: the first answer to an email question so far."""
    for spec in version_specs(partial.version_id):
        if spec.type == "email" and partial.answers.get(spec.key):
            return partial.answers[spec.key]
    return None


def email_resume_link(form: Form, partial: PartialResponse, link: str) -> str:
    """Queue an email with the resume link to the respondent's own email answer."""
    address = resume_address(partial)
    if address is None:
        raise ValidationFailed("Answer the form's email question first, then ask again.")
    context = {"form_title": form.title, "link": link, "days": form.resume_days}
    payload = email_payload(
        address,
        f"Finish “{form.title}” later",
        render_template("email/resume_link.txt", **context),
        render_template("email/resume_link.html", **context),
    )
    payload["sensitive"] = True  # holds the link to the answers: emptied once settled
    outbox.queue(
        DeliveryKind.EMAIL,
        payload,
        event="resume_link",
        trigger=DeliveryTrigger.SYSTEM,
        form_id=form.id,
    )
    db.session.commit()
    return address


def purge_expired(now: datetime | None = None) -> int:
    """Delete the partial responses past their expiry, and the files uploaded to them that no
    submission took; returns how many partials. Run by the worker now and then."""
    now = now or utcnow()
    expired = list(
        db.session.scalars(select(PartialResponse).where(PartialResponse.expires_at <= now))
    )
    file_ids = [
        value["file_id"]
        for partial in expired
        for value in partial.answers.values()
        if is_file_reference(value)
    ]
    if file_ids:
        db.session.execute(
            delete(StoredFile).where(
                StoredFile.id.in_(file_ids), StoredFile.submission_id.is_(None)
            )
        )
    for partial in expired:
        db.session.delete(partial)
    db.session.commit()
    return len(expired)
