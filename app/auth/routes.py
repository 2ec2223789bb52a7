from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_login import current_user
from flask_login import logout_user

from app.auth import bp
from app.auth.forms import ForgotPasswordForm
from app.auth.forms import LoginForm
from app.auth.forms import NewPasswordForm
from app.auth.forms import SetupForm
from app.auth.signing_in import begin_second_step
from app.auth.signing_in import start_signed_in_session
from app.errors import wants_json
from app.exceptions import DomainError
from app.exceptions import Throttled
from app.security import safe_next_path
from app.services.accounts import account_links
from app.services.accounts import two_step
from app.services.accounts import users
from app.services.accounts.account_links import LinkInvalid
from app.services.accounts.setup_code import check_setup_code
from app.views import add_domain_error
from app.views import render_form_page

# Pages that work before the owner exists: health checks, assets, the setup page itself,
# and (later) everything a respondent sees.
SETUP_EXEMPT_BLUEPRINTS = {"health", "public"}
SETUP_EXEMPT_ENDPOINTS = {"static", "auth.setup"}
PASSWORD_CHANGE_ENDPOINTS = {"account.change_password", "auth.logout", "static"}


@bp.before_app_request
def lead_to_setup_until_owner_exists():
    if request.blueprint in SETUP_EXEMPT_BLUEPRINTS or request.endpoint in SETUP_EXEMPT_ENDPOINTS:
        return None
    if wants_json():  # scripts get their normal answer (401, 404), not a page to fill in
        return None
    if current_app.extensions.get("formyard.set_up") or users.any_user_exists():
        current_app.extensions["formyard.set_up"] = True  # users are never deleted
        return None
    return redirect(url_for("auth.setup"))


@bp.before_app_request
def lead_to_password_change():
    if (
        request.blueprint not in SETUP_EXEMPT_BLUEPRINTS
        and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS
        and current_user.is_authenticated
        and current_user.must_change_password
    ):
        flash("Choose a new password to go on.", "info")
        return redirect(url_for("account.change_password"))
    return None


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    if users.any_user_exists():
        abort(404)
    form = SetupForm()
    code_required = current_app.config["SETUP_CODE_REQUIRED"]
    if not code_required:
        del form.setup_code
    if form.validate_on_submit():
        try:
            if code_required:
                check_setup_code(current_app.secret_key, form.setup_code.data)
            owner = users.create_owner(form.email.data, form.display_name.data, form.password.data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            current_app.extensions["formyard.set_up"] = True
            start_signed_in_session(owner)
            flash("Welcome to Formyard. Your owner account is ready.", "success")
            return redirect(url_for("dashboard.index"), 303)
    return render_form_page("auth/setup.html", setup_form=form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_path = safe_next_path(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_path or url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = users.authenticate(
                form.email.data, form.password.data, request.remote_addr or ""
            )
        except Throttled as error:
            add_domain_error(form, error)
            headers = {"Retry-After": str(error.retry_after)}
            return render_template("auth/login.html", login_form=form), 429, headers
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if two_step.uses_two_step(user):
                # Remember-me waits for the second step, like everything else.
                begin_second_step(user, remember=form.remember.data, next_path=next_path)
                return redirect(url_for("auth.second_step"), 303)
            start_signed_in_session(user, remember=form.remember.data)
            return redirect(next_path or url_for("dashboard.index"), 303)
    return render_form_page("auth/login.html", login_form=form)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        users.end_all_sessions(current_user._get_current_object())
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"), 303)


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            account_links.request_password_reset(form.email.data, request.remote_addr or "")
        except Throttled as error:
            add_domain_error(form, error)
            headers = {"Retry-After": str(error.retry_after)}
            page = render_template("auth/forgot_password.html", forgot_password_form=form)
            return page, 429, headers
        # The same answer whether or not the address has an account.
        return render_template("auth/reset_sent.html", email=form.email.data)
    return render_form_page("auth/forgot_password.html", forgot_password_form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _choose_password(token, invitation=False)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    return _choose_password(token, invitation=True)


def _choose_password(token: str, *, invitation: bool):
    check = account_links.user_for_invitation if invitation else account_links.user_for_reset
    try:
        user = check(token)
    except LinkInvalid as error:
        return render_template("auth/link_invalid.html", message=error.message), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            if invitation:
                user = account_links.accept_invitation(token, form.password.data)
            else:
                user = account_links.reset_password_with_token(token, form.password.data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return _password_chosen(user, invitation)
    return render_form_page(
        "auth/choose_password.html", password_form=form, user=user, invitation=invitation
    )


def _password_chosen(user, invitation: bool):
    session.clear()
    if invitation:
        start_signed_in_session(user)
        flash(f"Welcome to Formyard, {user.display_name}.", "success")
        return redirect(url_for("dashboard.index"), 303)
    flash("Your password is set, and every other session was signed out. Sign in.", "success")
    return redirect(url_for("auth.login"), 303)
