"""A person's own two-step verification: setting up the authenticator app, recovery codes,
turning it off. Each change asks for a recent sign-in and ends every other session."""

from __future__ import annotations

from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_login import current_user
from flask_login import login_user

from app.account import bp
from app.auth.forms import AuthenticatorCodeForm
from app.auth.signing_in import fresh_sign_in_required
from app.exceptions import DomainError
from app.exceptions import Throttled
from app.services.accounts import recovery_codes
from app.services.accounts import secret_box
from app.services.accounts import two_step
from app.services.accounts.two_step_policy import requires_two_step
from app.views import add_domain_error
from app.views import render_form_page

PENDING_SECRET_KEY = "authenticator_setup"  # noqa: S105 (a session key's name)


def _overview_url() -> str:
    return url_for("account.two_step")


@bp.get("/two-step", endpoint="two_step")
def show_two_step():
    user = current_user._get_current_object()
    return render_template(
        "account/two_step.html",
        methods=two_step.methods_of(user),
        required=requires_two_step(user),
        codes_left=recovery_codes.count_unused(user),
    )


def _setup_secret() -> str:
    """The secret being set up, kept (encrypted) in the session until a first code confirms
    it, so reloading the page does not change the QR code already scanned."""
    stored = session.get(PENDING_SECRET_KEY)
    if isinstance(stored, str):
        try:
            return secret_box.decrypt(stored)
        except secret_box.SecretUnreadable:
            pass
    secret = two_step.new_secret()
    session[PENDING_SECRET_KEY] = secret_box.encrypt(secret)
    return secret


@bp.route("/two-step/authenticator", methods=["GET", "POST"])
@fresh_sign_in_required()
def set_up_authenticator():
    user = current_user._get_current_object()
    if two_step.uses_two_step(user):
        flash("Your authenticator app is set up already.", "info")
        return redirect(_overview_url(), 303)
    secret = _setup_secret()
    form = AuthenticatorCodeForm()
    if form.validate_on_submit():
        try:
            codes = two_step.enable_authenticator(
                user, secret, form.code.data, request.remote_addr or ""
            )
        except Throttled as error:
            add_domain_error(form, error)
            page = _setup_page(user, secret, form)[0]
            return page, 429, {"Retry-After": str(error.retry_after)}
        except DomainError as error:
            add_domain_error(form, error)
        else:
            session.pop(PENDING_SECRET_KEY, None)
            login_user(user)  # every other session ended with the change; this one goes on
            return _recovery_codes_page(codes, first=True)
    return _setup_page(user, secret, form)


def _setup_page(user, secret: str, form: AuthenticatorCodeForm):
    uri = two_step.provisioning_uri(user, secret)
    return render_form_page(
        "account/set_up_authenticator.html",
        code_form=form,
        qr_code=two_step.qr_code_svg(uri),
        secret=two_step.format_secret(secret),
        required=requires_two_step(user),
    )


def _recovery_codes_page(codes: list[str], *, first: bool):
    # Shown in this answer only: never in a redirect, a flash message or the session.
    response = render_template("account/recovery_codes.html", codes=codes, first=first)
    return response, 200, {"Cache-Control": "no-store"}


@bp.post("/two-step/recovery-codes")
@fresh_sign_in_required(then=_overview_url)
def regenerate_recovery_codes():
    user = current_user._get_current_object()
    try:
        codes = two_step.regenerate_recovery_codes(user)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(_overview_url(), 303)
    login_user(user)
    return _recovery_codes_page(codes, first=False)


@bp.post("/two-step/authenticator/remove")
@fresh_sign_in_required(then=_overview_url)
def remove_authenticator():
    user = current_user._get_current_object()
    try:
        two_step.disable_authenticator(user)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(_overview_url(), 303)
    login_user(user)
    flash(
        "Two-step verification is off; your recovery codes no longer work. "
        "Other sessions were signed out.",
        "success",
    )
    return redirect(_overview_url(), 303)
