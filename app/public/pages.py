"""Rendering a respondent's page once per published version and serving it from memory."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from dataclasses import replace
from threading import Lock
from typing import Any

from flask import current_app
from flask import render_template
from werkzeug.datastructures import MultiDict
from wtforms import Form as WTForm

from app.caching import register_cache_clearer
from app.extensions import db
from app.fields import FIELD_TYPES
from app.fields import FieldError
from app.fields import FieldSpec
from app.fields import needs_multipart
from app.fields import prefill_data
from app.fields.upload import display_file
from app.fields.upload import is_file_reference
from app.flow.conditions import evaluate
from app.flow.conditions import referenced_fields
from app.flow.describe import describe
from app.flow.pages import Flow
from app.flow.piping import pipe
from app.models import Form
from app.models import FormVersion
from app.services.spam import TokenState
from app.services.submissions import specs_for
from app.services.submissions import version_form_class
from app.services.submissions import version_specs
from app.services.submissions.versions import is_shown_question
from app.services.submissions.versions import page_form_class
from app.services.submissions.versions import version_flow

TOKEN_PLACEHOLDER = "__FORMYARD_ONE_TIME_TOKEN__"  # noqa: S105 (replaced per request)
TOKEN_MAX_AGE = 7 * 24 * 3600
_cache: OrderedDict[tuple, str] = OrderedDict()
_cache_lock = Lock()
CACHE_SIZE = 256


def new_page_token(form: Form) -> str:
    """A signed one-time token, ``<nonce>.<time>.<signature>``; a double click posts it twice
    and the second is recognised. Made on every page view, so it is kept cheap."""
    nonce = secrets.token_urlsafe(12)
    issued = str(int(time.time()))
    return f"{nonce}.{issued}.{_signature(form.id, nonce, issued)}"


def idempotency_key_from_token(form: Form, token: str | None) -> str | None:
    """The key that makes a repeated post of this page a duplicate; None for a token that is
    missing, forged, for another form, or older than a week."""
    parts = (token or "").split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    nonce, issued, signature = parts
    if not hmac.compare_digest(signature, _signature(form.id, nonce, issued)):
        return None
    if time.time() - int(issued) > TOKEN_MAX_AGE:
        return None
    return f"page:{nonce}"


def page_token_signals(form: Form, token: str | None) -> tuple[TokenState, float | None]:
    """Whether the post carries the page's token, and how long ago the page was rendered."""
    parts = (token or "").split(".")
    if not token:
        return TokenState.MISSING, None
    if len(parts) != 3 or not parts[1].isdigit():
        return TokenState.INVALID, None
    nonce, issued, signature = parts
    if not hmac.compare_digest(signature, _signature(form.id, nonce, issued)):
        return TokenState.INVALID, None
    return TokenState.VALID, time.time() - int(issued)


def _signature(form_id: int, nonce: str, issued: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = f"formyard.page-token:{form_id}:{nonce}:{issued}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class PageView:
    """Which page of a form with pages to render, and how far along the respondent is."""

    version_id: int  # the respondent's version: the one they started on
    page_id: str
    number: int  # the page's place on the respondent's path, from 1
    total: int  # the form's pages: the most a path can show
    back: bool  # whether a Back button leads to an earlier page
    branches: bool  # whether answers may skip pages, so the total is at most
    can_save: bool = False  # whether the respondent may save to finish later
    data: dict[str, Any] | None = None  # the answers given before, to show again
    one_question: bool = False  # one question at a time: each page holds one question
    check_answers: bool = False  # the last page leads to "check your answers"


def render_form_page(
    form: Form,
    *,
    embedded: bool,
    action: str,
    query: MultiDict | None = None,
    bound: WTForm | None = None,
    errors: list[FieldError] | None = None,
    page: PageView | None = None,
) -> str:
    """The page with a fresh token. A plain page (no prefill, no errors, no answers given
    before) is rendered once per version, page and settings and then served from memory;
    only the token changes per request. A page that pipes answers into its text is plain
    only without answers, when every piped answer is empty, so one respondent's answer is
    never served to another."""
    version_id = page_version_id(form, page)
    plain = (
        bound is None
        and not errors
        and not (query and _prefills(version_id, query))
        and not (page and page.data)
    )
    place = (
        (
            page.page_id,
            page.number,
            page.total,
            page.back,
            page.branches,
            page.can_save,
            page.one_question,
            page.check_answers,
        )
        if page
        else None
    )
    key = (version_id, form.id, form.updated_at, embedded, action, place)
    html = _cache.get(key) if plain else None
    if html is None:
        version = db.session.get(FormVersion, version_id)
        html = _render(form, version, embedded, action, query, bound, errors or [], page)
        if plain:
            _remember(key, html)
    return html.replace(TOKEN_PLACEHOLDER, new_page_token(form), 1)


def page_version_id(form: Form, page: PageView | None) -> int:
    return page.version_id if page else form.published_version_id


def is_paged(form: Form) -> bool:
    """Whether respondents go page by page: a form with pages, or one that keeps answers to
    finish later, shows one question at a time, or checks answers before sending (even
    with one page)."""
    flow = version_flow(form.published_version_id)
    return (
        flow.is_multi_page or form.allow_saving or form.one_question_per_page or form.check_answers
    )


def first_page(form: Form) -> PageView | None:
    """The first page of a form respondents go through page by page; None for any other."""
    if not is_paged(form):
        return None
    version_id = form.published_version_id
    flow = version_flow(version_id, form.one_question_per_page)
    return PageView(
        version_id,
        flow.pages[0].id,
        1,
        len(flow.pages),
        back=False,
        branches=flow.branches,
        can_save=form.allow_saving,
        one_question=form.one_question_per_page,
        check_answers=form.check_answers,
    )


def _prefills(version_id: int, query: MultiDict) -> bool:
    return bool(prefill_data(version_specs(version_id), query))


def _render(form, version, embedded, action, query, bound, errors, page) -> str:
    specs = specs_for(version)
    flow = version_flow(version.id, page.one_question) if page else version.flow
    flow_page = flow.page(page.page_id) if page else None
    by_key = {spec.key: spec for spec in specs}
    page_keys = set(flow_page.keys) if flow_page else set(by_key)
    earlier: dict[str, Any] = {}
    if flow_page is not None:
        earlier = flow.walk((page and page.data) or {}, stop_at=flow_page.id).answers
        specs = tuple(
            spec
            for spec in specs
            if spec.key in page_keys and _may_show(flow, spec, page_keys, earlier)
        )
    if bound is None:
        form_class = (
            page_form_class(version.id, page.page_id, page.one_question)
            if page
            else version_form_class(version.id)
        )
        data = prefill_data(specs, query or MultiDict())
        bound = form_class(data={**data, **((page and page.data) or {})})
    specs = _piped(specs, bound, earlier, by_key)
    _describe_kept_files(specs, bound, (page and page.data) or {})
    last_page = flow_page is None or flow_page.id == flow.pages[-1].id
    sends = last_page and not (page and page.check_answers)
    return render_template(
        "public/form.html",
        form=form,
        version=version,
        specs=specs,
        respondent_form=bound,
        errors=errors,
        labels={spec.key: spec.label for spec in specs},
        focus_key=errors[0].key if errors else _first_question(specs, page),
        action=action,
        token=TOKEN_PLACEHOLDER,
        multipart=needs_multipart(specs),
        submit_label=form.submit_label if sends else "Continue",
        embedded=embedded,
        preview=False,
        page=page,
        flow_page=flow_page
        and replace(
            flow_page,
            title=pipe(flow_page.title, earlier, by_key),
            description=pipe(flow_page.description, earlier, by_key),
        ),
        # In words where the respondent decides it: conditions reading this page's answers.
        conditions={
            spec.key: describe(spec.show_if, by_key, flow.named)
            for spec in specs
            if spec.show_if and referenced_fields(spec.show_if, flow.named) & page_keys
        },
        # Decided in the browser as answers change: conditions on this page's answers only.
        dynamic={
            spec.key
            for spec in specs
            if spec.show_if and referenced_fields(spec.show_if, flow.named) <= page_keys
        },
        named_conditions=flow.named or None,
        # A form with pages is scored when sent, on its answers, without proof of work.
        proof_of_work=page is None,
    )


def _first_question(specs: tuple[FieldSpec, ...], page: PageView | None) -> str | None:
    """One question at a time, the keyboard starts on the question, so Enter continues."""
    if not (page and page.one_question):
        return None
    return next((spec.key for spec in specs if is_shown_question(spec)), None)


def _piped(
    specs: tuple[FieldSpec, ...],
    bound: WTForm,
    earlier: dict[str, Any],
    by_key: dict[str, FieldSpec],
) -> tuple[FieldSpec, ...]:
    """The page's questions with earlier answers piped into their labels and help, on the
    bound form too (its fields are this request's own, so the shared class is untouched)."""
    piped = []
    for spec in specs:
        label, help_text = pipe(spec.label, earlier, by_key), pipe(spec.help, earlier, by_key)
        if (label, help_text) != (spec.label, spec.help):
            spec = replace(spec, label=label, help=help_text)
            if spec.key in bound:
                bound[spec.key].label.text = label
                bound[spec.key].description = FIELD_TYPES[spec.type].help_text(spec)
        piped.append(spec)
    return tuple(piped)


def _describe_kept_files(specs: tuple[FieldSpec, ...], bound: WTForm, given: dict) -> None:
    """A file sent on an earlier visit to the page is kept unless another is chosen: say so
    in the question's help, which the file input is described by."""
    for spec in specs:
        kept = given.get(spec.key)
        if spec.key in bound and is_file_reference(kept):
            note = f"You sent {display_file(kept)}; choose a file only to replace it."
            field = bound[spec.key]
            field.description = f"{field.description} {note}" if field.description else note


def _may_show(flow: Flow, spec: FieldSpec, page_keys: set[str], earlier: dict[str, Any]) -> bool:
    """Whether a page's question may be shown: a condition on earlier pages' answers is decided
    now; one on this page's answers is left to the respondent (and checked on the server)."""
    condition = flow.field_conditions.get(spec.key)
    if condition is None or referenced_fields(condition, flow.named) & page_keys:
        return True
    return evaluate(condition, earlier, flow.named)


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


register_cache_clearer(clear_cache)


def _remember(key: tuple, html: str) -> None:
    with _cache_lock:
        _cache[key] = html
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
