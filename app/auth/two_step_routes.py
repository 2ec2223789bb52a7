"""The second step of signing in, confirming it is you before a dangerous action, and leading
people the policy requires to use two-step verification to set it up."""

from __future__ import annotations

from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from app.auth import bp
from app.auth.forms import AuthenticatorCodeForm
from app.auth.forms import ConfirmPasswordForm
from app.auth.forms import RecoveryCodeForm
from app.auth.session import require_role
from app.auth.signing_in import PENDING_KEY
from app.auth.signing_in import mark_proved
from app.auth.signing_in import pending_second_step
from app.auth.signing_in import start_signed_in_session
from app.exceptions import DomainError
from app.exceptions import Throttled
from app.models import Role
from app.security import safe_next_path
from app.services.accounts import recovery_codes
from app.services.accounts import two_step
from app.services.accounts import users
from app.services.accounts.two_step_policy import requires_two_step
from app.views import add_domain_error
from app.views import forms_with_errors

# What a person the policy leads to set up two-step verification may still open.
SETUP_ENDPOINTS = {
    "account.two_step",
    "account.set_up_authenticator",
    "account.change_password",
    "auth.logout",
    "auth.confirm_access",
    "static",
}
EXEMPT_BLUEPRINTS = {"health", "public", "api", "api_docs"}
PASSWORD = "password"  # noqa: S105 (a method's name)
RECOVERY_CODE = "recovery_code"


@bp.before_app_request
def lead_to_two_step_setup():
    if (
        request.blueprint in EXEMPT_BLUEPRINTS
        or request.endpoint in SETUP_ENDPOINTS
        or not current_user.is_authenticated
        or current_user.must_change_password  # the password first, then this
        or two_step.uses_two_step(current_user)
        or not requires_two_step(current_user)
    ):
        return None
    flash("Two-step verification is required on this site. Set it up to go on.", "info")
    return redirect(url_for("account.set_up_authenticator"))


def _method_forms(chosen: str | None, **form_classes: type[FlaskForm]) -> dict[str, FlaskForm]:
    """One form per method; only the one that was sent reads the request."""
    return {
        method: form_class() if method == chosen else form_class(formdata=None)
        for method, form_class in form_classes.items()
    }


def _throttled_page(template: str, error: Throttled, **context):
    page = render_template(template, **context)
    return page, 429, {"Retry-After": str(error.retry_after)}


@bp.route("/login/two-step", methods=["GET", "POST"])
def second_step():
    pending = pending_second_step()
    if pending is None:
        session.pop(PENDING_KEY, None)
        flash("Sign in again: the time for the second step ran out.", "info")
        return redirect(url_for("auth.login"), 303)
    user, choices = pending
    chosen = request.form.get("method") if request.method == "POST" else None
    forms = _method_forms(
        chosen, **{two_step.AUTHENTICATOR: AuthenticatorCodeForm, RECOVERY_CODE: RecoveryCodeForm}
    )
    context = {
        "code_form": forms[two_step.AUTHENTICATOR],
        "recovery_form": forms[RECOVERY_CODE],
        "methods": two_step.methods_of(user),
        "chosen": chosen,
    }
    form = forms.get(chosen or "")
    if form is not None and form.validate_on_submit():
        address = request.remote_addr or ""
        try:
            if chosen == RECOVERY_CODE:
                recovery_codes.spend_code(user, form.recovery_code.data, address)
            else:
                two_step.verify_code(user, form.code.data, address)
        except Throttled as error:
            add_domain_error(form, error)
            return _throttled_page("auth/second_step.html", error, **context)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return _finish_signing_in(user, choices, used_recovery_code=chosen == RECOVERY_CODE)
    status = 422 if forms_with_errors(context) else 200
    return render_template("auth/second_step.html", **context), status


def _finish_signing_in(user, choices: dict, *, used_recovery_code: bool):
    start_signed_in_session(user, remember=choices.get("remember", False))
    if used_recovery_code:
        left = recovery_codes.count_unused(user)
        flash(
            f"You signed in with a recovery code. {left} recovery code{'s' if left != 1 else ''} "
            "left; make new ones from your account page if your app is lost.",
            "info",
        )
    return redirect(safe_next_path(choices.get("next")) or url_for("dashboard.index"), 303)


@bp.route("/confirm-access", methods=["GET", "POST"])
def confirm_access():
    not_signed_in = require_role(Role.VIEWER)()
    if not_signed_in is not None:
        return not_signed_in
    user = current_user._get_current_object()
    next_path = safe_next_path(request.args.get("next")) or url_for("dashboard.index")
    chosen = request.form.get("method") if request.method == "POST" else None
    forms = _method_forms(
        chosen, **{PASSWORD: ConfirmPasswordForm, two_step.AUTHENTICATOR: AuthenticatorCodeForm}
    )
    context = {
        "password_form": forms[PASSWORD],
        "code_form": forms[two_step.AUTHENTICATOR],
        "methods": two_step.methods_of(user),
        "next_path": next_path,
    }
    form = forms.get(chosen or "")
    if form is not None and form.validate_on_submit():
        address = request.remote_addr or ""
        try:
            if chosen == PASSWORD:
                users.confirm_password(user, form.password.data, address)
            else:
                two_step.verify_code(user, form.code.data, address)
        except Throttled as error:
            add_domain_error(form, error)
            return _throttled_page("auth/confirm_access.html", error, **context)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            mark_proved()
            flash("Thank you. You can go on.", "success")
            return redirect(next_path, 303)
    status = 422 if forms_with_errors(context) else 200
    return render_template("auth/confirm_access.html", **context), status
