from flask import request
from flask import url_for
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from app.exceptions import AlreadyResponded
from app.exceptions import DomainError
from app.exceptions import FormUnavailable
from app.exceptions import SubmissionInvalid
from app.exceptions import Throttled
from app.markdown import render_markdown
from app.models import Availability
from app.models import Form
from app.public import bp
from app.public import responses
from app.public.cache import form_or_404
from app.public.page_routes import submit_page
from app.public.pages import first_page
from app.public.pages import idempotency_key_from_token
from app.public.pages import page_token_signals
from app.public.pages import render_form_page
from app.services.accounts import throttle
from app.services.forms.view_counts import record_view
from app.services.spam import RequestSignals
from app.services.spam import check_proof_of_work
from app.services.spam import new_challenge
from app.services.spam.proof_of_work import FIELD_NAME as PROOF_OF_WORK_FIELD
from app.services.submissions import MAX_IDEMPOTENCY_KEY_CHARS
from app.services.submissions import SubmissionContext
from app.services.submissions import request_fingerprint
from app.services.submissions import submit


@bp.get("/f/<slug>", provide_automatic_options=False)
def show_form(slug: str):
    return _show(form_or_404(slug), embedded=False)


@bp.get("/f/<slug>/embed", provide_automatic_options=False)
def show_embedded_form(slug: str):
    return _show(form_or_404(slug), embedded=True)


def _show(form: Form, *, embedded: bool):
    if form.is_endpoint:
        return responses.endpoint_get(form)
    availability = form.availability()
    if availability != Availability.OPEN:
        raise FormUnavailable(availability)
    if responses.already_responded(form):
        return _already_responded(form, embedded, 200)
    record_view(form.id)
    endpoint = "public.submit_embedded_form" if embedded else "public.submit_form"
    action = url_for(endpoint, slug=form.slug)
    page = first_page(form)
    html = render_form_page(form, embedded=embedded, action=action, query=request.args, page=page)
    return responses.page(form, html, 200, embedded)


def _already_responded(form: Form, embedded: bool, status: int):
    message = "This form takes one response per person, and we have yours. Thank you."
    return responses.message_page(form, "You have already responded", message, status, embedded)


@bp.post("/f/<slug>", provide_automatic_options=False)
def submit_form(slug: str):
    return _submit(form_or_404(slug), embedded=False)


@bp.post("/f/<slug>/embed", provide_automatic_options=False)
def submit_embedded_form(slug: str):
    return _submit(form_or_404(slug), embedded=True)


@bp.post("/p/<project>/f/<slug>", provide_automatic_options=False)
def submit_project_form(project: str, slug: str):
    """Formspree's address for a form of a project: its client posts here when given one.
    Formyard has no projects; the form is found by its slug alone."""
    return _submit(form_or_404(slug), embedded=False)


def _submit(form: Form, *, embedded: bool):
    # One budget per address and form, whether it posts to the page or to the embed. A form
    # with pages spends it once per respondent, when their answers start (submit_page).
    paged = "_page" in request.form
    posts_left = None
    try:
        if not paged:
            posts_left = throttle.ensure_submission_allowed(request.remote_addr or "", form.slug)
    except Throttled as error:
        return responses.throttled(form, error)
    try:
        data, files = responses.submitted_fields()  # a JSON answer no page could send is invalid
        context = _context(form, data, files, posts_left, paged=paged)
        if paged:
            return submit_page(form, data, files, context, embedded)
        accepted = submit(form, data, files, context)
    except SubmissionInvalid as error:
        return responses.invalid(form, error, embedded)
    except AlreadyResponded:
        return _already_responded(form, embedded, 409)
    return responses.accepted(form, accepted, embedded)


def _context(
    form: Form, data: MultiDict, files: MultiDict, posts_left: int | None, *, paged: bool
) -> SubmissionContext:
    given_key = request.headers.get("Idempotency-Key", "").strip()[:MAX_IDEMPOTENCY_KEY_CHARS]
    key = given_key or idempotency_key_from_token(form, data.get("_token"))
    return SubmissionContext(
        signals=_request_signals(form, data, posts_left, paged),
        origin=request.headers.get("Origin"),
        referrer=request.headers.get("Referer"),
        user_agent=request.headers.get("User-Agent"),
        idempotency_key=key,
        key_from_client=bool(given_key),
        fingerprint=request_fingerprint(data, files) if key else None,
        same_site=responses.is_same_site(),
        already_responded=responses.already_responded(form),
    )


def _request_signals(
    form: Form, data: MultiDict, posts_left: int | None, paged: bool
) -> RequestSignals:
    """A static-site form's own pages carry no token: it is neither missing nor timed. Pages
    of a form with pages carry no proof of work (their answers are scored when sent)."""
    solved = paged or check_proof_of_work(form, data.get(PROOF_OF_WORK_FIELD))
    if form.is_endpoint and not data.get("_token"):
        return RequestSignals(posts_left=posts_left, proof_of_work_missing=not solved)
    token, age = page_token_signals(form, data.get("_token"))
    return RequestSignals(
        token=token, page_age_seconds=age, posts_left=posts_left, proof_of_work_missing=not solved
    )


@bp.get("/f/<slug>/challenge", provide_automatic_options=False)
def proof_of_work_challenge(slug: str):
    """A proof-of-work challenge for the form's widget, on its pages or a static site's."""
    form = form_or_404(slug)
    response = responses.json_for(form, new_challenge(form))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/f/<slug>", methods=["OPTIONS"])
@bp.route("/f/<slug>/embed", methods=["OPTIONS"])
@bp.route("/p/<project>/f/<slug>", methods=["OPTIONS"])
def preflight(slug: str, project: str | None = None):
    return responses.preflight(form_or_404(slug))


@bp.get("/f/<slug>/thanks")
def thanks(slug: str):
    form = form_or_404(slug)
    embedded = request.args.get("embed") == "1"
    body = render_markdown(form.confirmation_message) if form.confirmation_message else None
    again = None
    if not form.one_response_per_browser and not form.is_endpoint:
        endpoint = "public.show_embedded_form" if embedded else "public.show_form"
        again = url_for(endpoint, slug=form.slug)
    message = "Your response has been recorded."
    return responses.message_page(
        form, "Thank you", message, 200, embedded, body_html=body, again_url=again
    )


@bp.errorhandler(DomainError)
def domain_error(error: DomainError):
    return responses.error(error.status, error.code, error.message)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    return responses.http_error(error)
