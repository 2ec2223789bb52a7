"""The services' NotFound and NotAllowed, answered once for every page: the site's error page with
its friendly message, or the JSON error shape for JSON clients, as abort(404) and abort(403) are."""

from __future__ import annotations

import pytest

from app.errors import FRIENDLY_MESSAGES
from app.models import Role
from tests.auth_helpers import AuthActions
from tests.test_builder import new_form

REFUSALS = [
    # (role, method, path, status): {id} is a form that exists.
    (Role.OWNER, "GET", "/forms/999", 404),
    (Role.OWNER, "GET", "/forms/999/submissions", 404),
    (Role.OWNER, "GET", "/forms/{id}/submissions/999", 404),
    (Role.OWNER, "GET", "/forms/999/notifications", 404),
    (Role.OWNER, "GET", "/forms/{id}/webhooks/999", 404),
    (Role.OWNER, "GET", "/users/999", 404),
    (Role.VIEWER, "GET", "/forms/{id}", 403),
    (Role.VIEWER, "POST", "/forms/{id}/submissions/bulk", 403),
]


def refused(app, signed_in, role: Role, method: str, path: str, headers: dict[str, str]):
    client = signed_in(role)
    actions = AuthActions(client)
    path = path.format(id=new_form(app))
    if method == "GET":
        return client.get(path, headers=headers)
    return client.post(path, headers={**headers, "X-CSRFToken": actions.csrf_token()})


@pytest.mark.parametrize(("role", "method", "path", "status"), REFUSALS)
def test_a_refusal_is_the_sites_error_page(app, signed_in, role, method, path, status):
    response = refused(app, signed_in, role, method, path, {})
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f"Error {status}" in page
    assert FRIENDLY_MESSAGES[status] in page


@pytest.mark.parametrize(("role", "method", "path", "status"), REFUSALS)
def test_a_refusal_is_the_json_error_shape_for_json_clients(
    app, signed_in, role, method, path, status
):
    response = refused(app, signed_in, role, method, path, {"Accept": "application/json"})
    assert response.status_code == status
    code = {403: "forbidden", 404: "not_found"}[status]
    assert response.get_json() == {"error": {"code": code, "message": FRIENDLY_MESSAGES[status]}}
