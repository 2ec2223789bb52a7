"""First run, signing in and out, throttling, and sessions that end for real."""

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from app.extensions import db
from app.models import Role
from app.models import User
from app.services.accounts import users
from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import PASSWORD
from tests.auth_helpers import AuthActions
from tests.auth_helpers import csrf_token_from
from tests.auth_helpers import fetch_user
from tests.auth_helpers import make_user


def count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


@pytest.mark.parametrize("path", ["/", "/users", "/account", "/login"])
def test_every_admin_page_leads_to_setup_before_the_owner_exists(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/setup"


def test_setup_creates_the_owner_and_signs_them_in(app, client, auth):
    response = auth.post(
        "/setup",
        {
            "display_name": "Olive",
            "email": "Olive@Example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    owner = fetch_user(app, "olive@example.com")
    assert owner.email == "olive@example.com"
    assert owner.role == Role.OWNER
    assert owner.password_hash.startswith("$argon2id$")
    assert "Olive" in client.get("/").get_data(as_text=True)


def test_setup_answers_404_once_a_user_exists(client, owner):
    assert client.get("/setup").status_code == 404
    assert client.post("/setup", data={}).status_code in {400, 404}


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short", "short", "at least 10 characters"),
        ("password123", "password123", "too common"),
        (PASSWORD, PASSWORD + "x", "The passwords differ."),
    ],
)
def test_setup_rejects_bad_passwords_and_keeps_the_form(
    app, client, auth, password, confirm, message
):
    response = auth.post(
        "/setup",
        {
            "display_name": "Olive",
            "email": "olive@example.com",
            "password": password,
            "confirm": confirm,
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'value="olive@example.com"' in page
    assert count_users(app) == 0


def test_login_with_correct_password_reaches_the_dashboard(app, client, auth, owner):
    response = auth.login()
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert fetch_user(app, OWNER_EMAIL).last_login_at is not None


def test_wrong_password_and_unknown_email_get_the_same_answer(client, auth, owner):
    wrong_password = auth.login(password="not the password at all")
    unknown_email = auth.login(email="nobody@example.com")
    assert wrong_password.status_code == unknown_email.status_code == 422
    assert "Email or password is not right." in wrong_password.get_data(as_text=True)
    assert "Email or password is not right." in unknown_email.get_data(as_text=True)


def test_deactivated_user_cannot_sign_in(app, client, auth, owner):
    make_user(app, "viewer@example.com", Role.VIEWER)
    with app.app_context():
        users.set_active(users.find_user_by_email("viewer@example.com"), False)
    assert auth.login("viewer@example.com").status_code == 422


def test_login_email_is_case_insensitive(client, auth, owner):
    assert auth.login(email="OWNER@Example.COM").status_code == 303


@pytest.mark.parametrize(
    ("next_value", "expected"),
    [
        ("/account", "/account"),
        ("/users?page=2", "/users?page=2"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("http:/evil.example", "/"),
    ],
)
def test_next_only_leads_to_paths_on_this_site(client, auth, owner, next_value, expected):
    token = csrf_token_from(client.get("/login"))
    response = client.post(
        "/login",
        query_string={"next": next_value},
        data={"csrf_token": token, "email": OWNER_EMAIL, "password": PASSWORD},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == expected


def test_admin_page_sends_anonymous_users_to_login_with_next(client, owner):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/account"
    assert "Please sign in to see that page." in client.get("/login").get_data(as_text=True)


def test_sixth_failed_attempt_is_throttled_and_correct_password_does_not_get_in(
    client, auth, owner
):
    for _ in range(5):
        assert auth.login(password="wrong password here").status_code == 422
    throttled = auth.login(password="wrong password here")
    assert throttled.status_code == 429
    assert "Too many failed sign-in attempts" in throttled.get_data(as_text=True)
    assert int(throttled.headers["Retry-After"]) > 0
    correct = auth.login()
    assert correct.status_code == 429
    assert client.get("/account").status_code == 302


def test_throttle_counts_per_account_across_addresses(client, auth, owner):
    for number in range(5):
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{number}"
        auth.login(password="wrong password here")
    client.environ_base["REMOTE_ADDR"] = "10.0.0.99"
    assert auth.login().status_code == 429


def test_throttle_counts_per_address_across_accounts(app, client, auth, owner):
    make_user(app, "other@example.com")
    for number in range(5):
        auth.login(email=f"guess{number}@example.com")
    assert auth.login(email="other@example.com").status_code == 429


def test_login_issues_a_new_session_cookie(client, auth, owner):
    client.get("/login")
    before = client.get_cookie("formyard_session").value
    auth.login()
    after = client.get_cookie("formyard_session").value
    assert before != after


def test_logout_requires_post_and_signs_out(client, auth, owner):
    auth.login()
    assert client.get("/logout").status_code == 405
    response = auth.logout()
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_session_cookie_replayed_after_logout_gets_the_login_page(app, client, auth, owner):
    auth.login()
    stolen = client.get_cookie("formyard_session").value
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("formyard_session", stolen)
    response = thief.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_remember_cookie_replayed_after_logout_gets_the_login_page(app, client, auth, owner):
    auth.login(remember=True)
    remember = client.get_cookie("formyard_remember")
    assert remember is not None
    assert remember.http_only
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("formyard_remember", remember.value)
    assert thief.get("/").status_code == 302


def test_remember_cookie_alone_signs_in_and_lasts_at_most_14_days(app, client, auth, owner):
    auth.login(remember=True)
    remember = client.get_cookie("formyard_remember")
    assert remember.expires <= datetime.now(UTC) + timedelta(days=14, minutes=1)
    fresh = app.test_client()
    fresh.set_cookie("formyard_remember", remember.value)
    assert fresh.get("/").status_code == 200


def test_password_change_elsewhere_ends_other_sessions(app, client, auth, owner):
    auth.login()
    other_device = app.test_client()
    AuthActions(other_device).login()
    assert other_device.get("/").status_code == 200
    new_password = "a different long passphrase"
    response = auth.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": new_password, "confirm": new_password},
    )
    assert response.status_code == 303
    assert client.get("/").status_code == 200
    assert other_device.get("/").status_code == 302


def test_session_cookie_flags(client, auth, owner):
    response = auth.login(remember=True)
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("formyard_session="))
    assert "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie


def test_dashboard_counts_forms_submissions_and_unread(app, client, auth, owner):
    from werkzeug.datastructures import MultiDict

    from app.services import forms
    from app.services.submissions import SubmissionContext
    from app.services.submissions import submit

    auth.login()
    assert "No forms yet" in client.get("/").get_data(as_text=True)
    with app.app_context():
        form = forms.create_form(None, template="contact", slug="contact")
        forms.publish(form, None)
        answers = MultiDict({"name": "Ann", "email": "ann@example.com", "message": "Hi"})
        submit(form, answers, MultiDict(), SubmissionContext())
    page = client.get("/").get_data(as_text=True)
    assert "Contact us" in page
    assert '<p class="stat-number"><a href="/inbox">1</a></p><p>unread</p>' in page
