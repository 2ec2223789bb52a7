"""Password reset and invitations by emailed link, end to end: the page, the outbox, a worker,
a real SMTP server, the link, and signing in afterwards."""

import re
import time

import pytest

from app.models import Role
from app.services.accounts import account_links
from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import PASSWORD
from tests.auth_helpers import AuthActions
from tests.auth_helpers import fetch_user
from tests.auth_helpers import make_user
from tests.delivery_helpers import all_deliveries
from tests.delivery_helpers import mail_app_fixture  # noqa: F401
from tests.delivery_helpers import run_worker
from tests.delivery_helpers import smtp_server_fixture  # noqa: F401

NEW_PASSWORD = "a brand new passphrase for me"
LINK_RE = re.compile(r"http://127\.0\.0\.1:5000(/(?:reset-password|invitation)/[\w.-]+)")


def link_in(mail) -> str:
    """The path of the link in a message's text; the HTML part carries the same."""
    path = LINK_RE.search(mail.text()).group(1)
    assert path in mail.html()
    return path


def request_reset(client, email: str):
    return AuthActions(client).post("/forgot-password", {"email": email})


def emailed_reset_link(app, client, smtp_server, email: str = OWNER_EMAIL) -> str:
    assert request_reset(client, email).status_code == 200
    run_worker(app)
    return link_in(smtp_server.one_to(email))


# --- password reset ------------------------------------------------------------------------------


def test_the_sign_in_page_offers_a_reset(client, owner):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/forgot-password"' in page


def test_a_reset_link_sets_a_new_password_and_ends_every_session(mail_app, smtp_server, owner):
    signed_in = mail_app.test_client()
    AuthActions(signed_in).login()
    assert signed_in.get("/").status_code == 200

    client = mail_app.test_client()
    path = emailed_reset_link(mail_app, client, smtp_server)
    mail = smtp_server.one_to(OWNER_EMAIL)
    assert mail.message["Subject"] == "Reset your Formyard password"
    assert "works once, for 1 hour" in mail.text()

    form = client.get(path)
    assert form.status_code == 200
    assert "Choose a new password" in form.get_data(as_text=True)
    response = AuthActions(client).post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"

    assert signed_in.get("/").status_code == 302  # the other session is over
    assert AuthActions(client).login(OWNER_EMAIL, PASSWORD).status_code == 422
    assert AuthActions(client).login(OWNER_EMAIL, NEW_PASSWORD).status_code == 303


def test_a_reset_link_works_once(mail_app, smtp_server, client, owner):
    path = emailed_reset_link(mail_app, client, smtp_server)
    AuthActions(client).post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    again = client.get(path)
    assert again.status_code == 400
    assert "not valid any more" in again.get_data(as_text=True)
    posted = AuthActions(client).post(
        path, {"password": "yet another passphrase", "confirm": "yet another passphrase"}
    )
    assert posted.status_code == 400


def test_signing_in_normally_retires_an_unused_reset_link(mail_app, smtp_server, client, owner):
    path = emailed_reset_link(mail_app, client, smtp_server)
    AuthActions(mail_app.test_client()).login()
    assert client.get(path).status_code == 400


def test_a_reset_link_expires_after_an_hour(mail_app, smtp_server, client, owner, monkeypatch):
    path = emailed_reset_link(mail_app, client, smtp_server)
    now = time.time()
    monkeypatch.setattr(account_links, "clock", lambda: now + 59 * 60)
    assert client.get(path).status_code == 200
    monkeypatch.setattr(account_links, "clock", lambda: now + 61 * 60)
    assert client.get(path).status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/reset-password/not-a-token",
        "/reset-password/WzEsImFiYyJd.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb",
    ],
)
def test_a_made_up_link_is_refused(client, owner, path):
    assert client.get(path).status_code == 400


def test_a_reset_token_does_not_open_an_invitation(mail_app, smtp_server, client, owner):
    path = emailed_reset_link(mail_app, client, smtp_server)
    token = path.rsplit("/", 1)[1]
    assert client.get(f"/invitation/{token}").status_code == 400


def test_the_link_is_not_kept_once_the_email_is_sent(mail_app, smtp_server, client, owner):
    emailed_reset_link(mail_app, client, smtp_server)
    [delivery] = all_deliveries(mail_app, event="password_reset")
    assert delivery.payload == {"to": OWNER_EMAIL, "subject": "Reset your Formyard password"}


def test_known_and_unknown_addresses_get_the_same_answer(mail_app, smtp_server, owner):
    make_user(mail_app, "gone@example.com", Role.VIEWER)
    with mail_app.app_context():
        from app.services.accounts import users

        users.set_active(users.find_user_by_email("gone@example.com"), False)
    pages = {}
    for email in (OWNER_EMAIL, "nobody@example.com", "gone@example.com"):
        response = request_reset(mail_app.test_client(), email)
        assert response.status_code == 200
        pages[email] = response.get_data(as_text=True).replace(email, "EMAIL")
    assert len(set(pages.values())) == 1
    assert "If EMAIL belongs to an account" in pages[OWNER_EMAIL]
    run_worker(mail_app)
    assert [mail.rcpt_tos for mail in smtp_server.messages] == [[OWNER_EMAIL]]


@pytest.mark.parametrize("email", [OWNER_EMAIL, "nobody@example.com"])
def test_reset_requests_are_throttled_per_account(mail_app, owner, email):
    mail_app.config["PASSWORD_RESET_LIMIT"] = "3 per hour"
    for _ in range(3):
        assert request_reset(mail_app.test_client(), email).status_code == 200
    throttled = request_reset(mail_app.test_client(), email)
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0
    assert "Too many reset requests" in throttled.get_data(as_text=True)
    assert request_reset(mail_app.test_client(), "other@example.com").status_code == 429  # address


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short", "short", "Use at least 10 characters"),
        ("password1234", "password1234", "too common"),
        (NEW_PASSWORD, "something else entirely", "The passwords differ."),
    ],
)
def test_the_new_password_must_follow_the_rules(
    mail_app, smtp_server, client, owner, password, confirm, message
):
    path = emailed_reset_link(mail_app, client, smtp_server)
    response = AuthActions(client).post(path, {"password": password, "confirm": confirm})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert client.get(path).status_code == 200  # still usable


# --- invitations ---------------------------------------------------------------------------------


def invite(app, auth, email: str = "newcomer@example.com", role: str = "editor"):
    return auth.post("/users/invite", {"display_name": "New Comer", "email": email, "role": role})


def test_an_invited_person_chooses_a_password_and_is_signed_in(
    mail_app, smtp_server, client, auth, owner
):
    auth.login()
    response = invite(mail_app, auth)
    assert response.status_code == 303
    assert response.headers["Location"] == "/users"
    listing = client.get("/users").get_data(as_text=True)
    assert "Invitation sent to newcomer@example.com" in listing
    assert "Email an invitation" in listing

    run_worker(mail_app)
    mail = smtp_server.one_to("newcomer@example.com")
    assert mail.message["Subject"] == "You are invited to Formyard"
    assert "Owner invited you to Formyard as editor" in mail.text()
    path = link_in(mail)
    assert path.startswith("/invitation/")

    newcomer = mail_app.test_client()
    assert AuthActions(newcomer).login("newcomer@example.com", "whatever it is").status_code == 422
    page = newcomer.get(path).get_data(as_text=True)
    assert "Welcome to Formyard" in page
    response = AuthActions(newcomer).post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert newcomer.get("/").status_code == 200  # signed in, no password change asked

    user = fetch_user(mail_app, "newcomer@example.com")
    assert (user.role, user.must_change_password) == (Role.EDITOR, False)
    assert user.last_login_at is not None
    assert newcomer.get(path).status_code == 400  # once
    assert (
        AuthActions(mail_app.test_client()).login("newcomer@example.com", NEW_PASSWORD).status_code
        == 303
    )


def test_a_new_invitation_retires_the_old_link(mail_app, smtp_server, auth, owner):
    auth.login()
    invite(mail_app, auth)
    run_worker(mail_app)
    old_path = link_in(smtp_server.messages[0])
    user_id = fetch_user(mail_app, "newcomer@example.com").id
    response = auth.post(f"/users/{user_id}/invite")
    assert response.status_code == 303
    run_worker(mail_app)
    new_path = link_in(smtp_server.messages[1])

    client = mail_app.test_client()
    assert client.get(old_path).status_code == 400
    assert client.get(new_path).status_code == 200


def test_an_invitation_lasts_seven_days(mail_app, smtp_server, auth, owner, monkeypatch):
    auth.login()
    invite(mail_app, auth)
    run_worker(mail_app)
    path = link_in(smtp_server.messages[0])
    now = time.time()
    monkeypatch.setattr(account_links, "clock", lambda: now + 6.9 * 86400)
    assert mail_app.test_client().get(path).status_code == 200
    monkeypatch.setattr(account_links, "clock", lambda: now + 7.1 * 86400)
    assert mail_app.test_client().get(path).status_code == 400


def test_a_temporary_password_can_be_swapped_for_an_invitation(
    mail_app, smtp_server, client, auth, owner
):
    auth.login()
    added = auth.post(
        "/users/new", {"display_name": "Ed", "email": "ed@example.com", "role": "viewer"}
    )
    temporary = re.search(
        r'<code class="secret"[^>]*>([^<]+)</code>', added.get_data(as_text=True)
    ).group(1)
    user_id = fetch_user(mail_app, "ed@example.com").id
    assert auth.post(f"/users/{user_id}/invite").status_code == 303
    run_worker(mail_app)
    assert smtp_server.one_to("ed@example.com")
    assert AuthActions(mail_app.test_client()).login("ed@example.com", temporary).status_code == 422


def test_no_invitation_for_someone_who_chose_a_password(mail_app, smtp_server, auth, owner):
    member = make_user(mail_app, "member@example.com", Role.VIEWER)
    auth.login()
    response = auth.post(f"/users/{member}/invite")
    assert response.status_code == 422
    assert "has chosen a password already" in response.get_data(as_text=True)
    assert auth.post(f"/users/{owner}/invite").status_code == 422
    assert all_deliveries(mail_app) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": OWNER_EMAIL, "role": "editor"}, "already exists"),
        ({"email": "not-an-email", "role": "editor"}, "email address"),
        ({"email": "x@example.com", "role": "king"}, "Not a valid choice"),
    ],
)
def test_bad_invitations_are_refused_with_422(mail_app, auth, owner, data, message):
    auth.login()
    response = auth.post("/users/invite", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert all_deliveries(mail_app) == []


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_only_owners_invite(mail_app, owner, role):
    make_user(mail_app, "someone@example.com", role)
    client = mail_app.test_client()
    actions = AuthActions(client)
    actions.login("someone@example.com")
    assert client.get("/users/invite").status_code == 403
    assert (
        actions.post("/users/invite", {"email": "x@example.com", "role": "viewer"}).status_code
        == 403
    )
    assert actions.post(f"/users/{owner}/invite").status_code == 403
