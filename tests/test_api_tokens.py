"""Personal API tokens: made at /account and by `flask tokens`, shown once, kept as a hash,
acting with their user's role and never more, and stopped at once when revoked."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken
from app.models import Role
from app.models import Submission
from app.models import WebhookEndpoint
from app.models.types import utcnow
from app.services.accounts import tokens
from app.services.accounts import users
from app.services.delivery import netcheck
from tests.api_helpers import CONTACT_FIELDS
from tests.api_helpers import ApiClient
from tests.api_helpers import bearer
from tests.api_helpers import error_of
from tests.api_helpers import make_token
from tests.api_helpers import stored_token
from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import make_user
from tests.delivery_helpers import add_webhook
from tests.delivery_helpers import submit_answers
from tests.form_helpers import make_form

TOKEN_RE = re.compile(r'<code class="secret"[^>]*>(fy_[^<]+)</code>')


# --- what is stored ------------------------------------------------------------------------------


def test_a_token_is_stored_only_as_its_hash(app, owner):
    value = make_token(app, OWNER_EMAIL)
    assert value.startswith("fy_")
    assert len(value) == len("fy_") + 43
    row = stored_token(app, value)
    assert row.token_hash == tokens.hash_token(value) != value
    assert row.prefix == value[:7]
    with app.app_context():
        stored = db.session.execute(select(ApiToken.__table__)).one()._asdict()
    assert value not in {str(column) for column in stored.values()}


def test_tokens_are_unguessable_and_distinct(app, owner):
    values = {make_token(app, OWNER_EMAIL) for _ in range(5)}
    assert len(values) == 5


def test_last_used_time_is_noted_at_most_once_a_minute(app, client, owner):
    value = make_token(app, OWNER_EMAIL)
    assert stored_token(app, value).last_used_at is None
    client.get("/api/v1/forms", headers=bearer(value))
    first = stored_token(app, value).last_used_at
    assert first is not None
    client.get("/api/v1/forms", headers=bearer(value))
    assert stored_token(app, value).last_used_at == first
    with app.app_context():
        later = utcnow() + timedelta(minutes=2)
        assert tokens.authenticate(value, now=later) is not None
    assert stored_token(app, value).last_used_at == later


# --- asking without a good token -----------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic Zm9vOmJhcg==",
        "Bearer fy_not-a-real-token",
        "Bearer not-even-ours",
        "Bearer " + "fy_" + "x" * 5000,
    ],
)
def test_no_or_bad_token_answers_401(client, owner, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/api/v1/forms", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert error_of(response)["code"] == "unauthorized"


def test_a_session_cookie_is_not_a_token(client, auth, owner):
    auth.login()
    assert client.get("/forms").status_code == 200
    assert client.get("/api/v1/forms").status_code == 401


def test_a_revoked_token_fails_at_once(app, client, owner):
    value = make_token(app, OWNER_EMAIL)
    assert client.get("/api/v1/forms", headers=bearer(value)).status_code == 200
    with app.app_context():
        user = users.find_user_by_email(OWNER_EMAIL)
        [token] = tokens.list_tokens(user)
        tokens.revoke_token(token)
    response = client.get("/api/v1/forms", headers=bearer(value))
    assert response.status_code == 401
    assert "revoked" in error_of(response)["message"]


def test_a_deactivated_users_token_fails_at_once_and_works_again_when_reactivated(app, client):
    make_user(app, OWNER_EMAIL, Role.OWNER)
    value = make_token(app, "ed@example.com", Role.EDITOR)
    with app.app_context():
        users.set_active(users.find_user_by_email("ed@example.com"), False)
    assert client.get("/api/v1/forms", headers=bearer(value)).status_code == 401
    with app.app_context():
        users.set_active(users.find_user_by_email("ed@example.com"), True)
    assert client.get("/api/v1/forms", headers=bearer(value)).status_code == 200


# --- scope and role ------------------------------------------------------------------------------


def test_a_read_token_reads_but_cannot_write(app, client, owner):
    form_id = make_form(app, CONTACT_FIELDS).id
    api = ApiClient(client, make_token(app, OWNER_EMAIL, scope="read"))
    assert api.get(f"/forms/{form_id}").status_code == 200
    for response in (
        api.post("/forms", json={"title": "New"}),
        api.patch(f"/forms/{form_id}", json={"title": "Renamed"}),
        api.delete(f"/forms/{form_id}"),
        api.post(f"/forms/{form_id}/publish"),
        api.post(f"/forms/{form_id}/submissions", json={"answers": {"name": "Ann"}}),
    ):
        assert response.status_code == 403
        assert error_of(response)["code"] == "insufficient_scope"
    with app.app_context():
        assert [form.title for form in _forms()] == ["Contact us"]


@pytest.mark.parametrize(
    ("scope", "code"), [("read", "insufficient_scope"), ("write", "forbidden")]
)
def test_a_viewers_token_cannot_write_whatever_its_scope(
    app, client, owner, scope, code, monkeypatch
):
    monkeypatch.setattr(netcheck, "system_resolver", lambda host, port: ["93.184.215.14"])
    form_id = make_form(app, CONTACT_FIELDS).id
    submission_id = submit_answers(app, form_id, {"name": "Ann", "email": "ann@example.com"})
    webhook_id, _secret = add_webhook(app, form_id, "https://hooks.example/1")
    api = ApiClient(client, make_token(app, "viewer@example.com", Role.VIEWER, scope))
    assert api.get("/forms").status_code == 200
    assert api.get(f"/forms/{form_id}/submissions").status_code == 200
    assert api.get(f"/submissions/{submission_id}").status_code == 200
    for response in (
        api.post("/forms", json={"title": "New"}),
        api.patch(f"/forms/{form_id}", json={"title": "Renamed"}),
        api.delete(f"/forms/{form_id}"),
        api.post(f"/forms/{form_id}/publish"),
        api.post(f"/forms/{form_id}/submissions", json={"answers": {"name": "Ann"}}),
        api.patch(f"/submissions/{submission_id}", json={"starred": True}),
        api.delete(f"/submissions/{submission_id}"),
        api.post(f"/forms/{form_id}/webhooks", json={"url": "https://hooks.example/2"}),
        api.delete(f"/webhooks/{webhook_id}"),
    ):
        assert response.status_code == 403
        assert error_of(response)["code"] == code
    # Webhooks are editors' business, as on the pages, even to read.
    for path in (f"/forms/{form_id}/webhooks", f"/webhooks/{webhook_id}/deliveries"):
        assert error_of(api.get(path))["code"] == "forbidden"
    with app.app_context():
        assert [form.title for form in _forms()] == ["Contact us"]
        submission = db.session.get(Submission, submission_id)
        assert (submission.is_starred, submission.deleted_at) == (False, None)
        assert db.session.scalar(select(func.count(Submission.id))) == 1
        assert db.session.scalar(select(func.count(WebhookEndpoint.id))) == 1


def test_a_token_follows_its_users_role_as_it_changes(app, client, owner):
    api = ApiClient(client, make_token(app, "ed@example.com", Role.EDITOR))
    assert api.post("/forms", json={"title": "First"}).status_code == 201
    with app.app_context():
        users.change_role(users.find_user_by_email("ed@example.com"), Role.VIEWER)
    assert api.post("/forms", json={"title": "Second"}).status_code == 403


def _forms():
    from app.models import Form

    return db.session.scalars(select(Form).order_by(Form.id))


# --- the account page ----------------------------------------------------------------------------


def test_account_page_makes_a_token_shown_once(app, client, auth, owner):
    auth.login()
    response = auth.post("/account/tokens", {"name": "CRM sync", "scope": "write"})
    assert response.status_code == 201
    value = TOKEN_RE.search(response.get_data(as_text=True)).group(1)
    assert "only time it is shown" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers or value not in response.headers["Set-Cookie"]

    page = client.get("/account").get_data(as_text=True)
    assert "CRM sync" in page
    assert value[:7] in page
    assert value not in page
    assert "read and write" in page
    assert ApiClient(client, value).post("/forms", json={"title": "By token"}).status_code == 201


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # The service's messages, the same that `flask tokens create` gives.
        ({"name": "  ", "scope": "read"}, "Name the token (at most 100 characters)"),
        ({"name": "x" * 101, "scope": "read"}, "Name the token (at most 100 characters)"),
        ({"name": "CI", "scope": "admin"}, "Choose read, or read and write."),
    ],
)
def test_account_page_refuses_a_bad_token_request(app, client, auth, owner, data, message):
    auth.login()
    response = auth.post("/account/tokens", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert tokens.list_tokens(users.find_user_by_email(OWNER_EMAIL)) == []


def test_account_page_revokes_a_token(app, client, auth, owner):
    value = make_token(app, OWNER_EMAIL)
    token_id = stored_token(app, value).id
    auth.login()
    response = auth.post(f"/account/tokens/{token_id}/revoke")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account#tokens"
    page = client.get("/account").get_data(as_text=True)
    assert "It no longer works." in page
    assert "revoked" in page
    assert stored_token(app, value).revoked_at is not None
    assert client.get("/api/v1/forms", headers=bearer(value)).status_code == 401


def test_nobody_revokes_someone_elses_token(app, client, auth, owner):
    value = make_token(app, "ed@example.com", Role.EDITOR)
    auth.login()  # the owner
    auth.post(f"/account/tokens/{stored_token(app, value).id}/revoke")
    assert stored_token(app, value).revoked_at is None
    assert client.get("/api/v1/forms", headers=bearer(value)).status_code == 200


def test_account_tokens_need_a_csrf_token(client, auth, owner):
    auth.login()
    response = client.post("/account/tokens", data={"name": "CI", "scope": "read"})
    assert response.status_code == 400


# --- the command line ----------------------------------------------------------------------------


def test_flask_tokens_create_prints_a_working_token(app, client, runner, owner):
    result = runner.invoke(
        args=["tokens", "create", "--email", OWNER_EMAIL, "--scope", "read", "--name", "CI"]
    )
    assert result.exit_code == 0, result.output
    value = result.stdout.strip()
    assert value.startswith("fy_")
    assert "Created token" in result.stderr
    assert client.get("/api/v1/forms", headers=bearer(value)).status_code == 200
    assert stored_token(app, value).name == "CI"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "nobody@example.com", "--scope", "read", "--name", "CI"], "no user"),
        (["--email", OWNER_EMAIL, "--scope", "admin", "--name", "CI"], "admin"),
        (["--email", OWNER_EMAIL, "--scope", "read", "--name", " "], "Name the token"),
        (["--email", OWNER_EMAIL, "--scope", "read"], "Missing option '--name'"),
    ],
)
def test_flask_tokens_create_refuses_bad_arguments(runner, owner, args, message):
    result = runner.invoke(args=["tokens", "create", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_flask_tokens_list_and_revoke(app, client, runner, owner):
    value = make_token(app, OWNER_EMAIL)
    token_id = stored_token(app, value).id
    listed = runner.invoke(args=["tokens", "list", "--email", OWNER_EMAIL])
    assert f"{token_id}\t{value[:7]}…\twrite\tactive" in listed.output
    assert value not in listed.output
    revoked = runner.invoke(args=["tokens", "revoke", "--email", OWNER_EMAIL, str(token_id)])
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/api/v1/forms", headers=bearer(value)).status_code == 401
    other = runner.invoke(args=["tokens", "revoke", "--email", OWNER_EMAIL, "999"])
    assert other.exit_code == 2
    assert "No such token" in other.output
