from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_login import current_user
from flask_login import login_user

from app.auth.signing_in import fresh_sign_in_required
from app.exceptions import DomainError
from app.models import User
from app.services.accounts import account_links
from app.services.accounts import two_step
from app.services.accounts import two_step_policy
from app.services.accounts import users
from app.services.delivery import notifications
from app.users import bp
from app.users.forms import InviteUserForm
from app.users.forms import NewUserForm
from app.users.forms import RoleForm
from app.users.forms import TwoStepPolicyForm
from app.views import add_domain_error
from app.views import render_form_page


@bp.get("")
def list_users():
    return render_template("users/list.html", users=users.list_users())


@bp.route("/new", methods=["GET", "POST"])
def new_user():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user, password = users.invite_user_with_temporary_password(
                form.email.data, form.display_name.data or "", form.role.data
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            # Shown in this answer only, never kept in the session or a flash message.
            return render_template("users/password_shown.html", user=user, password=password), 201
    return render_form_page("users/new.html", user_form=form)


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@fresh_sign_in_required()
def edit_user(user_id: int):
    user = users.get_user(user_id)
    form = RoleForm(role=user.role.value)
    if form.validate_on_submit():
        try:
            users.change_role(user, form.role.data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            flash(f"{user.email} is now {user.role.value}.", "success")
            return redirect(url_for("users.list_users"), 303)
    return render_form_page("users/edit.html", role_form=form, user=user)


def _users_url(**_view_args) -> str:
    return url_for("users.list_users")


@bp.post("/<int:user_id>/deactivate")
@fresh_sign_in_required(then=_users_url)
def deactivate_user(user_id: int):
    return _set_active(users.get_user(user_id), active=False)


@bp.post("/<int:user_id>/activate")
def activate_user(user_id: int):
    return _set_active(users.get_user(user_id), active=True)


def _set_active(user: User, *, active: bool):
    try:
        users.set_active(user, active)
    except DomainError as error:
        flash(error.message, "error")
        return render_template("users/list.html", users=users.list_users()), error.status
    flash(f"{user.email} is {'active again' if active else 'deactivated'}.", "success")
    return redirect(url_for("users.list_users"), 303)


@bp.post("/<int:user_id>/reset-password")
def reset_password(user_id: int):
    user = users.get_user(user_id)
    password = users.reset_password(user)
    return render_template("users/password_shown.html", user=user, password=password, reset=True)


@bp.route("/invite", methods=["GET", "POST"])
def invite_user():
    form = InviteUserForm()
    if form.validate_on_submit():
        try:
            user = account_links.invite_user(
                form.email.data, form.display_name.data or "", form.role.data, current_user
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            flash(f"Invitation sent to {user.email}. The link works for 7 days.", "success")
            return redirect(url_for("users.list_users"), 303)
    return render_form_page(
        "users/invite.html", invite_form=form, mail_configured=notifications.mail_configured()
    )


@bp.post("/<int:user_id>/invite")
def resend_invitation(user_id: int):
    user = users.get_user(user_id)
    try:
        account_links.resend_invitation(user, current_user)
    except DomainError as error:
        flash(error.message, "error")
        return render_template("users/list.html", users=users.list_users()), error.status
    flash(f"A new invitation is on its way to {user.email}; older links stop working.", "success")
    return redirect(url_for("users.list_users"), 303)


@bp.post("/<int:user_id>/reset-two-step")
@fresh_sign_in_required(then=_users_url)
def reset_two_step(user_id: int):
    user = users.get_user(user_id)
    two_step.reset_two_step(user)
    if user.id == current_user.id:
        login_user(user)
    flash(
        f"Two-step verification of {user.email} is off and their sessions ended; "
        "they set it up again when they next sign in.",
        "success",
    )
    return redirect(url_for("users.list_users"), 303)


@bp.route("/two-step-policy", methods=["GET", "POST"])
@fresh_sign_in_required()
def two_step_policy_settings():
    form = TwoStepPolicyForm(policy=two_step_policy.current_policy().value)
    if form.validate_on_submit():
        try:
            policy = two_step_policy.set_policy(form.policy.data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            label = two_step_policy.POLICY_LABELS[policy]
            flash(f"Two-step verification required for: {label.lower()}.", "success")
            return redirect(url_for("users.list_users"), 303)
    return render_form_page("users/two_step_policy.html", policy_form=form)
