"""The `flask users` commands."""

import pytest

from app.models import Role
from tests.auth_helpers import PASSWORD
from tests.auth_helpers import AuthActions
from tests.auth_helpers import fetch_user
from tests.auth_helpers import make_user


def test_create_user_with_password_from_the_environment(app, runner, monkeypatch):
    monkeypatch.setenv("FORMYARD_PASSWORD", PASSWORD)
    result = runner.invoke(
        args=["users", "create", "--email", "Ann@Example.com", "--role", "editor"]
    )
    assert result.exit_code == 0, result.output
    assert "Created ann@example.com (editor)." in result.output
    assert fetch_user(app, "ann@example.com").role == Role.EDITOR
    assert AuthActions(app.test_client()).login("ann@example.com").status_code == 303


def test_create_user_with_prompted_password(app, runner, monkeypatch):
    monkeypatch.delenv("FORMYARD_PASSWORD", raising=False)
    result = runner.invoke(
        args=["users", "create", "--email", "bo@example.com", "--role", "owner"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert fetch_user(app, "bo@example.com").role == Role.OWNER


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["--email", "x@example.com", "--role", "king"], PASSWORD, "'king' is not one of"),
        (["--email", "not-an-email", "--role", "viewer"], PASSWORD, "email address"),
        (["--email", "x@example.com", "--role", "viewer"], "short", "at least 10 characters"),
        (["--email", "x@example.com", "--role", "viewer"], "password123", "too common"),
        (["--role", "viewer"], PASSWORD, "Missing option '--email'"),
    ],
)
def test_create_user_rejects_bad_arguments_with_exit_code_2(
    app, runner, monkeypatch, args, password, message
):
    monkeypatch.setenv("FORMYARD_PASSWORD", password)
    result = runner.invoke(args=["users", "create", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert fetch_user(app, "x@example.com") is None


def test_create_user_refuses_a_duplicate_email(app, runner, monkeypatch, owner):
    monkeypatch.setenv("FORMYARD_PASSWORD", PASSWORD)
    result = runner.invoke(
        args=["users", "create", "--email", "OWNER@example.com", "--role", "viewer"]
    )
    assert result.exit_code == 2
    assert "already exists" in result.output


def test_list_users(app, runner, owner):
    make_user(app, "viewer@example.com", Role.VIEWER)
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("owner@example.com\towner\tactive")
    assert lines[1].startswith("viewer@example.com\tviewer\tactive\tlast login: never")


def test_set_password_changes_it_and_ends_sessions(app, runner, monkeypatch, owner):
    client = app.test_client()
    AuthActions(client).login()
    new_password = "a brand new passphrase"
    monkeypatch.setenv("FORMYARD_PASSWORD", new_password)
    result = runner.invoke(args=["users", "set-password", "owner@example.com"])
    assert result.exit_code == 0, result.output
    assert client.get("/").status_code == 302
    assert AuthActions(app.test_client()).login(password=new_password).status_code == 303


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("nobody@example.com", PASSWORD, "no user with email"),
        ("owner@example.com", "x", "at least"),
    ],
)
def test_set_password_rejects_bad_input(app, runner, monkeypatch, owner, email, password, message):
    monkeypatch.setenv("FORMYARD_PASSWORD", password)
    result = runner.invoke(args=["users", "set-password", email])
    assert result.exit_code == 2
    assert message in result.output
