from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_login import current_user
from flask_login import login_user

from app.account import bp
from app.account.forms import ChangePasswordForm
from app.account.forms import NewTokenForm
from app.account.forms import ProfileForm
from app.auth.signing_in import fresh_sign_in_required
from app.exceptions import DomainError
from app.services.accounts import recovery_codes
from app.services.accounts import tokens
from app.services.accounts import users
from app.views import add_domain_error
from app.views import render_form_page


@bp.route("", methods=["GET", "POST"])
def profile():
    user = current_user._get_current_object()
    form = ProfileForm(obj=user)
    if form.validate_on_submit():
        try:
            users.update_profile(user, form.display_name.data, form.timezone.data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            flash("Your settings are saved.", "success")
            return redirect(url_for("account.profile"), 303)
    return render_form_page(
        "account/profile.html",
        profile_form=form,
        token_form=NewTokenForm(formdata=None),
        tokens=tokens.list_tokens(user),
        recovery_codes_left=recovery_codes.count_unused(user),
    )


@bp.route("/password", methods=["GET", "POST"])
def change_password():
    user = current_user._get_current_object()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            users.change_own_password(user, form.current_password.data, form.new_password.data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            # Every other session just ended with the old token; keep this one going.
            login_user(user)
            flash("Your password is changed. Other sessions were signed out.", "success")
            return redirect(url_for("account.profile"), 303)
    return render_form_page("account/password.html", password_form=form)


@bp.post("/tokens")
@fresh_sign_in_required(then=lambda: url_for("account.profile", _anchor="tokens"))
def create_token():
    user = current_user._get_current_object()
    token_form = NewTokenForm()
    if token_form.validate_on_submit():
        try:
            token, value = tokens.create_token(user, token_form.name.data, token_form.scope.data)
        except DomainError as error:
            add_domain_error(token_form, error)
        else:
            # Shown in this answer only: never in a redirect, a flash message or the session.
            return render_template("account/token_created.html", token=token, value=value), 201
    page = render_template(
        "account/profile.html",
        profile_form=ProfileForm(obj=user, formdata=None),
        token_form=token_form,
        tokens=tokens.list_tokens(user),
        recovery_codes_left=recovery_codes.count_unused(user),
    )
    return page, 422


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    try:
        token = tokens.get_token_for(current_user, token_id)
    except DomainError:
        flash("That token no longer exists.", "error")
    else:
        tokens.revoke_token(token)
        flash(f"Revoked the token \u201c{token.name}\u201d. It no longer works.", "success")
    return redirect(url_for("account.profile", _anchor="tokens"), 303)
