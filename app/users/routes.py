from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_login import current_user

from app.exceptions import DomainError
from app.models import User
from app.services.accounts import account_links
from app.services.accounts import users
from app.services.delivery import notifications
from app.users import bp
from app.users.forms import InviteUserForm
from app.users.forms import NewUserForm
from app.users.forms import RoleForm
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


@bp.post("/<int:user_id>/deactivate")
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
