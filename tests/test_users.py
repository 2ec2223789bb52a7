"""The owner manages users; roles are enforced on the server for every admin route."""

import re

import pytest

from app.models import Role
from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import PASSWORD
from tests.auth_helpers import AuthActions
from tests.auth_helpers import fetch_user
from tests.auth_helpers import make_user

# (method, path) of every admin route and the least role that may use it.
ADMIN_ROUTES = [
    ("GET", "/", Role.VIEWER),
    ("GET", "/account", Role.VIEWER),
    ("GET", "/account/password", Role.VIEWER),
    ("GET", "/users", Role.OWNER),
    ("GET", "/users/new", Role.OWNER),
    ("GET", "/users/1", Role.OWNER),
    ("POST", "/users/1/reset-password", Role.OWNER),
    ("POST", "/users/1/deactivate", Role.OWNER),
    ("POST", "/users/1/activate", Role.OWNER),
]


@pytest.mark.parametrize(("method", "path", "least_role"), ADMIN_ROUTES)
@pytest.mark.parametrize("role", list(Role))
def test_roles_are_enforced_on_every_admin_route(
    app, owner, signed_in, method, path, least_role, role
):
    client = signed_in(role)
    actions = AuthActions(client)
    if method == "GET":
        response = client.get(path)
    else:
        # Target another user so a permitted action does not end this session.
        target = make_user(app, f"target-{role.value}@example.com", Role.VIEWER)
        response = actions.post(path.replace("/1/", f"/{target}/"))
    if role.includes(least_role):
        assert response.status_code in {200, 303}
    else:
        assert response.status_code == 403


@pytest.mark.parametrize(("method", "path", "_role"), ADMIN_ROUTES)
def test_anonymous_users_are_sent_to_login(client, owner, method, path, _role):
    response = client.open(path, method=method)
    if method == "POST":
        assert response.status_code == 400  # no CSRF token: refused before anything else
    else:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_owner_adds_a_user_and_sees_the_temporary_password_once(app, client, auth, owner):
    auth.login()
    response = auth.post(
        "/users/new", {"display_name": "Ed", "email": "Ed@Example.com", "role": "editor"}
    )
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    password = re.search(r'<code class="secret"[^>]*>([^<]+)</code>', page).group(1)
    assert "only time it is shown" in page
    assert client.get("/users").get_data(as_text=True).count(password) == 0

    newcomer = app.test_client()
    login = AuthActions(newcomer).login("ed@example.com", password)
    assert login.status_code == 303
    # A temporary password must be replaced before anything else.
    assert newcomer.get("/").headers["Location"] == "/account/password"
    change = AuthActions(newcomer).post(
        "/account/password",
        {"current_password": password, "new_password": PASSWORD, "confirm": PASSWORD},
    )
    assert change.status_code == 303
    assert newcomer.get("/").status_code == 200
    assert fetch_user(app, "ed@example.com").role == Role.EDITOR


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "not-an-email", "role": "editor"}, "email address"),
        ({"email": OWNER_EMAIL, "role": "editor"}, "already exists"),
        ({"email": "x@example.com", "role": "king"}, "Not a valid choice"),
        ({"email": "", "role": "editor"}, "This field is required."),
    ],
)
def test_adding_a_user_rejects_bad_input_with_422(app, auth, owner, data, message):
    auth.login()
    response = auth.post("/users/new", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_owner_changes_a_role(app, auth, owner):
    target = make_user(app, "viewer@example.com", Role.VIEWER)
    auth.login()
    response = auth.post(f"/users/{target}", {"role": "editor"})
    assert response.status_code == 303
    assert fetch_user(app, "viewer@example.com").role == Role.EDITOR


def test_last_active_owner_cannot_be_demoted_or_deactivated(app, auth, owner):
    auth.login()
    demote = auth.post(f"/users/{owner}", {"role": "viewer"})
    assert demote.status_code == 422
    assert "last active owner" in demote.get_data(as_text=True)
    deactivate = auth.post(f"/users/{owner}/deactivate")
    assert deactivate.status_code == 403
    assert "last active owner" in deactivate.get_data(as_text=True)
    stored = fetch_user(app, OWNER_EMAIL)
    assert stored.role == Role.OWNER
    assert stored.is_active_user


def test_an_owner_can_be_demoted_when_another_owner_remains(app, auth, owner):
    second = make_user(app, "second@example.com", Role.OWNER)
    auth.login()
    assert auth.post(f"/users/{second}", {"role": "viewer"}).status_code == 303
    assert fetch_user(app, "second@example.com").role == Role.VIEWER


def test_deactivation_ends_the_users_sessions_at_once(app, auth, owner, signed_in):
    viewer_client = signed_in(Role.VIEWER)
    assert viewer_client.get("/").status_code == 200
    auth.login()
    target = fetch_user(app, "viewer@example.com").id
    assert auth.post(f"/users/{target}/deactivate").status_code == 303
    assert viewer_client.get("/").status_code == 302
    assert AuthActions(viewer_client).login("viewer@example.com").status_code == 422
    assert auth.post(f"/users/{target}/activate").status_code == 303
    assert AuthActions(viewer_client).login("viewer@example.com").status_code == 303


def test_password_reset_shows_a_temporary_password_and_ends_sessions(app, auth, owner, signed_in):
    viewer_client = signed_in(Role.VIEWER)
    target = fetch_user(app, "viewer@example.com").id
    auth.login()
    response = auth.post(f"/users/{target}/reset-password")
    assert response.status_code == 200
    password = re.search(
        r'<code class="secret"[^>]*>([^<]+)</code>', response.get_data(as_text=True)
    )
    assert viewer_client.get("/").status_code == 302
    assert AuthActions(viewer_client).login("viewer@example.com").status_code == 422
    assert (
        AuthActions(viewer_client).login("viewer@example.com", password.group(1)).status_code == 303
    )


def test_unknown_user_is_404(auth, owner):
    auth.login()
    assert auth.post("/users/999/deactivate").status_code == 404
