"""Forms as a whole: the list, a new form, its details, publishing, settings, copies and trash."""

from __future__ import annotations

from flask import jsonify
from flask import render_template
from flask import url_for
from flask_login import current_user

from app.auth.session import role_required
from app.builder import bp
from app.builder.forms import ENDPOINT_CHOICE
from app.builder.forms import DetailsForm
from app.builder.forms import NewFormForm
from app.builder.forms import SettingsForm
from app.builder.forms import settings_form
from app.builder.pages import answer
from app.builder.pages import embed_snippet
from app.builder.pages import endpoint_snippet
from app.builder.pages import failed
from app.builder.pages import form_page
from app.builder.pages import form_state
from app.builder.pages import json_domain_error
from app.builder.pages import load_form
from app.builder.pages import proof_of_work_snippet
from app.builder.pages import public_path
from app.builder.pages import public_url
from app.builder.pages import refused
from app.builder.pages import render_builder
from app.builder.timezones import local_time
from app.builder.timezones import user_zone
from app.errors import wants_json
from app.exceptions import ValidationFailed
from app.models import Form
from app.models import Role
from app.services import forms
from app.services import retention


@bp.context_processor
def builder_helpers() -> dict:
    return {"local_time": local_time, "public_path": public_path}


def _builder_url(form_id: int) -> str:
    return url_for("builder.edit_form", form_id=form_id)


@bp.get("")
def list_forms():
    can_edit = current_user.can(Role.EDITOR)
    return render_template(
        "builder/list.html", forms=forms.list_forms(current_user), can_edit=can_edit
    )


@bp.get("/trash")
def trash():
    trashed = forms.list_forms(current_user, trashed=True)
    return render_template(
        "builder/trash.html", forms=trashed, can_edit=current_user.can(Role.EDITOR)
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.EDITOR)  # create_form trusts its caller: the CLI may create forms too
def new_form():
    wtform = NewFormForm()
    if wtform.validate_on_submit():
        endpoint = wtform.template.data == ENDPOINT_CHOICE
        try:
            if endpoint:
                form = forms.create_endpoint(current_user, title=wtform.title.data)
            else:
                form = forms.create_form(
                    current_user, title=wtform.title.data, template=wtform.template.data
                )
        except ValidationFailed as error:
            return refused(wtform, error) or form_page("builder/new.html", creation_form=wtform)
        if endpoint:  # nothing to build: what to paste into the website
            message = f'Created "{form.title}". Point your form\'s action at its address.'
            location = url_for("builder.share_form", form_id=form.id)
        else:
            message, location = f'Created "{form.title}".', _builder_url(form.id)
        return answer(form, message, location=location, status=201, fragments=False)
    return form_page("builder/new.html", creation_form=wtform)


@bp.get("/<int:form_id>")
def edit_form(form_id: int):
    form = load_form(form_id)
    if wants_json():
        return jsonify(form=form_state(form))
    return render_builder(form)


@bp.post("/<int:form_id>/details")
def update_details(form_id: int):
    form = load_form(form_id)
    details = DetailsForm()
    try:
        forms.update_details(
            form,
            title=details.title.data or "",
            description=details.description.data or "",
            slug=details.slug.data or "",
        )
    except ValidationFailed as error:
        return json_domain_error(error) if wants_json() else render_builder(form, details, error)
    return answer(form, "Saved the title, description and address.", location=_builder_url(form.id))


@bp.post("/<int:form_id>/publish")
def publish_form(form_id: int):
    form = load_form(form_id)
    try:
        version = forms.publish(form, current_user)
    except ValidationFailed as error:
        return failed(form, error)
    return answer(
        form, f"Published version {version.number}. It is live now.", location=_builder_url(form.id)
    )


@bp.route("/<int:form_id>/settings", methods=["GET", "POST"])
def form_settings(form_id: int):
    form = load_form(form_id)
    wtform = settings_form(form)
    if wtform.validate_on_submit():
        try:
            forms.update_settings(form, **wtform.settings(forms.current_settings(form)))
        except ValidationFailed as error:
            return refused(wtform, error) or _settings_page(form, wtform)
        location = url_for("builder.form_settings", form_id=form.id)
        return answer(form, "Saved the settings.", location=location, fragments=False)
    return _settings_page(form, wtform)


def _settings_page(form: Form, wtform: SettingsForm):
    return form_page(
        "builder/settings.html",
        settings_form=wtform,
        form=form,
        zone=user_zone().key,
        retention=retention.preview(form),
    )


@bp.get("/<int:form_id>/share")
def share_form(form_id: int):
    """The form's link, the code to embed it and the code of a static-site form that posts
    to it: for anyone who may read the form."""
    form = load_form(form_id, "read")
    return render_template(
        "builder/share.html",
        form=form,
        public_url=public_url(form),
        embed_snippet=embed_snippet(form),
        endpoint_snippet=endpoint_snippet(form),
        proof_of_work_snippet=proof_of_work_snippet(form),
    )


@bp.post("/<int:form_id>/duplicate")
def duplicate_form(form_id: int):
    copy = forms.duplicate_form(load_form(form_id), current_user)
    return answer(
        copy,
        f'Made a copy: "{copy.title}".',
        location=_builder_url(copy.id),
        status=201,
        fragments=False,
    )


@bp.post("/<int:form_id>/trash")
def trash_form(form_id: int):
    form = load_form(form_id)
    forms.trash_form(form)
    message = f'Moved "{form.title}" to the trash. You can restore it for 30 days.'
    return answer(form, message, location=url_for("builder.list_forms"), fragments=False)


@bp.post("/<int:form_id>/restore")
def restore_form(form_id: int):
    form = load_form(form_id, trashed=True)
    forms.restore_form(form)
    return answer(
        form, f'Restored "{form.title}".', location=_builder_url(form.id), fragments=False
    )


from app.builder import field_routes  # noqa: E402,F401  (registers the field routes on bp)
from app.builder import logic_routes  # noqa: E402,F401  (and the logic routes)
