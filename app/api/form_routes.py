"""Forms: list, create, read, change, trash and publish; and their uploaded files."""

from __future__ import annotations

from flask import url_for

from app.api import bp
from app.api import present
from app.api.auth import api_user
from app.api.openapi import errors
from app.api.paths import ID
from app.api.schemas import FormCreateSchema
from app.api.schemas import FormListSchema
from app.api.schemas import FormSchema
from app.api.schemas import FormUpdateSchema
from app.services import forms
from app.services.submissions import storage
from app.views import file_download

DETAILS = ("title", "description", "slug")


@bp.route("/forms", methods=["GET"], tags=["Forms"])
@bp.response(200, FormListSchema)
@errors(bp)
def list_forms():
    """List forms

    Every form not in the trash, most recently changed first.
    """
    return {"data": [present.form_summary(form) for form in forms.list_forms(api_user())]}


@bp.route("/forms", methods=["POST"], tags=["Forms"])
@bp.arguments(FormCreateSchema)
@bp.response(201, FormSchema)
@errors(bp, 422)
def create_form(values: dict):
    """Create a form

    A new draft, blank or from a template (its fields and title). Needs the editor role.
    """
    form = forms.create_form(
        api_user(),
        title=values.get("title"),
        template=values["template"],
        slug=values.get("slug"),
        kind=values["kind"],
    )
    return present.form_detail(form), 201, {"Location": url_for("api.get_form", form_id=form.id)}


@bp.route(f"/forms/<{ID}:form_id>", methods=["GET"], tags=["Forms"])
@bp.response(200, FormSchema)
@errors(bp, 404)
def get_form(form_id: int):
    """Read a form

    Its settings, the draft's fields and the published version's.
    """
    return present.form_detail(forms.get_form_for(api_user(), form_id, "read"))


@bp.route(f"/forms/<{ID}:form_id>", methods=["PATCH"], tags=["Forms"])
@bp.arguments(FormUpdateSchema)
@bp.response(200, FormSchema)
@errors(bp, 404, 422)
def update_form(changes: dict, form_id: int):
    """Change a form

    Any of its title, description, slug, draft fields, named conditions and settings; what is
    left out stays. Everything is checked before anything is saved. Title, description, fields
    (page breaks included) and conditions go live when the form is published, which checks the
    flow: a problem answers 422 with the JSON path at fault.
    """
    form = forms.get_form_for(api_user(), form_id, "edit")
    forms.update_form(
        form,
        details={key: changes[key] for key in DETAILS if key in changes},
        fields=changes.get("fields"),
        settings=changes.get("settings"),
        **({"conditions": changes["conditions"]} if "conditions" in changes else {}),
    )
    return present.form_detail(form)


@bp.route(f"/forms/<{ID}:form_id>", methods=["DELETE"], tags=["Forms"])
@bp.response(204)
@errors(bp, 404)
def trash_form(form_id: int):
    """Move a form to the trash

    It stops taking submissions and is deleted for good after 30 days.
    """
    forms.trash_form(forms.get_form_for(api_user(), form_id, "edit"))


@bp.route(f"/forms/<{ID}:form_id>/publish", methods=["POST"], tags=["Forms"])
@bp.response(200, FormSchema)
@errors(bp, 404, 422)
def publish_form(form_id: int):
    """Publish a form

    Freezes the draft into a new version, which the public page serves from now on.
    """
    user = api_user()
    form = forms.get_form_for(user, form_id, "edit")
    forms.publish(form, user)
    return present.form_detail(form)


@bp.route(f"/forms/<{ID}:form_id>/files/<file_id>", methods=["GET"], tags=["Submissions"])
@bp.response(
    200,
    {"type": "string", "format": "binary"},
    content_type="*/*",
    description="The file, as a download.",
)
@errors(bp, 404)
def download_file(form_id: int, file_id: str):
    """Download an uploaded file

    Answers link here for file questions.
    """
    form = forms.get_form_for(api_user(), form_id, "read")
    return file_download(storage.get_file(form.id, file_id))
