"""Uploaded files reach admins as downloads only, and only with the right to read the form."""

import pytest

from app.extensions import db
from app.fields import UploadedFile
from app.models import Role
from app.services import forms
from app.services.submissions import storage


@pytest.fixture
def stored_file(app):
    with app.app_context():
        form = forms.create_form(None, slug="uploads")
        other = forms.create_form(None, slug="other")
        upload = UploadedFile(
            "report <1>.html", "text/html", 31, b"<script>alert('x')</script>\n\n"
        )
        reference = storage.save_upload(form.id, "cv", upload)
        db.session.commit()
        return form.id, other.id, reference["file_id"]


def test_viewer_downloads_a_file_as_an_attachment(app, owner, signed_in, stored_file):
    form_id, _, file_id = stored_file
    response = signed_in(Role.VIEWER).get(f"/forms/{form_id}/files/{file_id}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "report" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.data.startswith(b"<script>")


def test_a_file_is_not_found_through_another_form(app, owner, signed_in, stored_file):
    _, other_id, file_id = stored_file
    client = signed_in(Role.VIEWER)
    assert client.get(f"/forms/{other_id}/files/{file_id}").status_code == 404
    assert client.get(f"/forms/{other_id}/files/nope").status_code == 404


def test_anonymous_users_cannot_download(client, owner, stored_file):
    form_id, _, file_id = stored_file
    response = client.get(f"/forms/{form_id}/files/{file_id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
