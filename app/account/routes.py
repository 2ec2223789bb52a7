from flask import flash
from flask import redirect
from flask import url_for
from flask_login import current_user
from flask_login import login_user

from app.account import bp
from app.account.forms import ChangePasswordForm
from app.account.forms import ProfileForm
from app.services import users
from app.services.errors import DomainError
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
    return render_form_page("account/profile.html", form)


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
    return render_form_page("account/password.html", form)
