"""Forms with pages, one page per request, without JavaScript: each page posts to the form's
address with its ``_page``, the server judges it and answers 303 to the next page (or 422 with
the page again), and the final page's post stores the submission."""

from __future__ import annotations

from flask import Response
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.datastructures import MultiDict

from app.exceptions import PageNotReached
from app.exceptions import SubmissionInvalid
from app.exceptions import Throttled
from app.extensions import db
from app.links import external_url
from app.models import Form
from app.models import FormVersion
from app.models import PartialResponse
from app.public import bp
from app.public import responses
from app.public.cache import form_or_404
from app.public.pages import PageView
from app.public.pages import new_page_token
from app.public.pages import render_form_page
from app.services.accounts import throttle
from app.services.submissions import SubmissionContext
from app.services.submissions import paging
from app.services.submissions.accepting import find_accepted
from app.services.submissions.checking import answers_to_check
from app.services.submissions.versions import version_flow

PARTIAL_COOKIE = "formyard_partial_{id}"


def partial_of_request(form: Form) -> PartialResponse | None:
    return paging.find_partial(form, request.cookies.get(PARTIAL_COOKIE.format(id=form.id)))


def page_view(form: Form, partial: PartialResponse, page_id: str) -> PageView:
    flow = paging.partial_flow(partial)
    path = partial.path
    number = path.index(page_id) + 1 if page_id in path else len(path)
    return PageView(
        partial.version_id,
        page_id,
        number,
        len(flow.pages),
        back=number > 1,
        branches=flow.branches,
        can_save=form.allow_saving,
        data=dict(partial.answers),
        one_question=partial.one_question_per_page,
        check_answers=form.check_answers,
    )


def page_url(form: Form, page_id: str, embedded: bool) -> str:
    embed = {"embed": "1"} if embedded else {}
    if page_id == paging.CHECK_ANSWERS:
        return url_for("public.check_answers", slug=form.slug, **embed)
    return url_for("public.show_page", slug=form.slug, page_id=page_id, **embed)


def submit_page(
    form: Form, data: MultiDict, files: MultiDict, context: SubmissionContext, embedded: bool
) -> Response:
    """One page's post: start the respondent's answers on the first page, judge the page,
    then lead on (or back), or show the page again with what to fix."""
    page_id = data.get("_page", "")
    partial, token = partial_of_request(form), None
    if partial is None:
        repeated = find_accepted(form, context)  # a double click on the last page
        if repeated is not None:
            return responses.accepted(form, repeated, embedded)
        flow = version_flow(form.published_version_id or 0, form.one_question_per_page)
        if not flow.pages or page_id != flow.pages[0].id:
            raise PageNotReached(
                "Your answers to the earlier pages were sent already or have expired. "
                "Start again from the first page."
            )
        try:
            throttle.ensure_submission_allowed(request.remote_addr or "", form.slug)
        except Throttled as error:
            return responses.throttled(form, error)
        partial, token = paging.start_partial(form, context)
    action = data.get("_action") if data.get("_action") in ("back", "save") else "continue"
    try:
        step = paging.answer_page(form, partial, page_id, data, files, context, action=action)
    except SubmissionInvalid as error:
        return _with_cookie(form, partial, token, _invalid_page(form, partial, error, embedded))
    if action == "save":
        resume_token = paging.save_for_later(form, partial)
        return _with_cookie(
            form, partial, token, _saved_page(form, partial, resume_token, embedded)
        )
    if step.accepted is not None:
        response = responses.accepted(form, step.accepted, embedded)
        response.delete_cookie(PARTIAL_COOKIE.format(id=form.id), path=f"/f/{form.slug}")
        return response
    return _with_cookie(
        form, partial, token, redirect(page_url(form, step.next_page, embedded), 303)
    )


def _invalid_page(
    form: Form, partial: PartialResponse, error: SubmissionInvalid, embedded: bool
) -> Response:
    db.session.commit()  # a new respondent's answers are kept from their first page on
    page_id = paging.page_of(partial, error.errors[0].key) if error.form is None else None
    page_id = page_id or request.form.get("_page", "")
    view = page_view(form, partial, page_id)
    html = render_form_page(
        form,
        embedded=embedded,
        action=_action(form, embedded),
        bound=error.form,
        errors=error.errors,
        page=view,
    )
    return responses.page(form, html, 422, embedded)


def _action(form: Form, embedded: bool) -> str:
    endpoint = "public.submit_embedded_form" if embedded else "public.submit_form"
    return url_for(endpoint, slug=form.slug)


def _with_cookie(
    form: Form, partial: PartialResponse, token: str | None, response: Response
) -> Response:
    if token is not None:
        response.set_cookie(
            PARTIAL_COOKIE.format(id=form.id),
            token,
            expires=partial.expires_at,
            path=f"/f/{form.slug}",
            httponly=True,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


@bp.get("/f/<slug>/p/<page_id>")
def show_page(slug: str, page_id: str):
    """A page the respondent has reached, with the answers they gave; any other page leads
    to the form's first page."""
    form = form_or_404(slug)
    embedded = request.args.get("embed") == "1"
    partial = partial_of_request(form)
    if partial is None or page_id not in partial.path:
        return _to_first_page(form, embedded)
    if paging.partial_flow(partial).page(page_id) is None:  # the check page, or a lost one
        return redirect(page_url(form, paging.current_page(partial), embedded), 303)
    view = page_view(form, partial, page_id)
    html = render_form_page(form, embedded=embedded, action=_action(form, embedded), page=view)
    return responses.page(form, html, 200, embedded)


def _to_first_page(form: Form, embedded: bool) -> Response:
    endpoint = "public.show_embedded_form" if embedded else "public.show_form"
    return redirect(url_for(endpoint, slug=form.slug), 303)


@bp.get("/f/<slug>/check")
def check_answers(slug: str):
    """Check your answers: every answer the respondent's path shows, each with a link to
    change it, and the button that sends them. Only once the last page is done."""
    form = form_or_404(slug)
    embedded = request.args.get("embed") == "1"
    partial = partial_of_request(form)
    if partial is None or paging.CHECK_ANSWERS not in partial.path:
        return _to_first_page(form, embedded)
    pages = answers_to_check(partial)
    change_urls = {
        row.page_id: page_url(form, row.page_id, embedded) for page in pages for row in page.answers
    }
    html = render_template(
        "public/check.html",
        version=db.session.get(FormVersion, partial.version_id),
        pages=pages,
        change_urls=change_urls,
        action=_action(form, embedded),
        token=new_page_token(form),
        check_page=paging.CHECK_ANSWERS,
        submit_label=form.submit_label,
        can_save=form.allow_saving,
        embedded=embedded,
    )
    return responses.page(form, html, 200, embedded)


def resume_url(form: Form, resume_token: str) -> str:
    return external_url("public.resume", slug=form.slug, token=resume_token)


def _saved_page(
    form: Form,
    partial: PartialResponse,
    resume_token: str,
    embedded: bool,
    *,
    emailed_to: str | None = None,
) -> Response:
    html = render_template(
        "public/saved.html",
        title=form.title,
        link=resume_url(form, resume_token),
        expires_at=partial.expires_at,
        resume_token=resume_token,
        email_to=paging.resume_address(partial),
        email_action=url_for("public.email_resume_link", slug=form.slug),
        emailed_to=emailed_to,
        embedded=embedded,
    )
    response = responses.page(form, html, 200, embedded)
    response.headers["Referrer-Policy"] = "no-referrer"  # the page holds the link's secret
    return response


@bp.get("/f/<slug>/resume/<token>")
def resume(slug: str, token: str):
    """A resume link: the answers it keeps become this browser's, at the page reached."""
    form = form_or_404(slug)
    partial, browser_token = paging.resume(form, token)
    response = redirect(page_url(form, paging.current_page(partial), False), 303)
    response.headers["Referrer-Policy"] = "no-referrer"
    return _with_cookie(form, partial, browser_token, response)


@bp.post("/f/<slug>/resume/email")
def email_resume_link(slug: str):
    """Email the resume link to the respondent's own email answer."""
    form = form_or_404(slug)
    throttle.ensure_submission_allowed(request.remote_addr or "", form.slug)
    resume_token = request.form.get("resume", "")
    partial = paging.partial_for_resume(form, resume_token)
    address = paging.email_resume_link(form, partial, resume_url(form, resume_token))
    return _saved_page(form, partial, resume_token, False, emailed_to=address)
