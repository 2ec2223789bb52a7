"""``flask users``: manage the people who can sign in."""

from __future__ import annotations

import os

import click
from flask.cli import AppGroup

from app.exceptions import DomainError
from app.models import Role
from app.services.accounts import two_step
from app.services.accounts import users as user_service

PASSWORD_ENV = "FORMYARD_PASSWORD"  # noqa: S105 (a variable name, not a password)

users_cli = AppGroup("users", help="Manage the people who can sign in.")


def _read_password() -> str:
    password = os.environ.get(PASSWORD_ENV)
    if password:
        return password
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _fail(error: DomainError, param_hint: str | None = None) -> click.UsageError:
    if param_hint:
        return click.BadParameter(error.message, param_hint=param_hint)
    return click.UsageError(error.message)


@users_cli.command("create")
@click.option("--email", required=True, help="Sign-in address.")
@click.option(
    "--role",
    required=True,
    type=click.Choice([role.value for role in Role]),
    help="What the user may do.",
)
@click.option(
    "--name", "display_name", default="", help="Display name (defaults to the email's name)."
)
def create_user(email: str, role: str, display_name: str) -> None:
    """Create a user. The password is prompted, or read from $FORMYARD_PASSWORD."""
    password = _read_password()
    try:
        user = user_service.create_user(email, display_name, password, role)
    except DomainError as error:
        hint = f"--{error.field}" if error.field in {"email", "role"} else "password"
        raise _fail(error, hint) from None
    click.echo(f"Created {user.email} ({user.role.value}).")


@users_cli.command("list")
def list_users() -> None:
    """List users with their role and state."""
    for user in user_service.list_users():
        state = "active" if user.is_active_user else "deactivated"
        last = user.last_login_at.isoformat(timespec="seconds") if user.last_login_at else "never"
        click.echo(f"{user.email}\t{user.role.value}\t{state}\tlast login: {last}")


@users_cli.command("set-password")
@click.argument("email")
def set_password(email: str) -> None:
    """Set a user's password (prompted, or from $FORMYARD_PASSWORD); ends their sessions."""
    user = user_service.find_user_by_email(email)
    if user is None:
        raise click.BadParameter(f"no user with email {email!r}", param_hint="EMAIL")
    try:
        user_service.set_password(user, _read_password())
    except DomainError as error:
        raise _fail(error, "password") from None
    click.echo(f"Password changed for {user.email}; their sessions were ended.")


@users_cli.command("reset-2fa")
@click.argument("email")
def reset_two_step(email: str) -> None:
    """Turn off a user's two-step verification (app and recovery codes) and end their
    sessions: for someone who lost their phone and their recovery codes."""
    user = user_service.find_user_by_email(email)
    if user is None:
        raise click.BadParameter(f"no user with email {email!r}", param_hint="EMAIL")
    had_two_step = two_step.uses_two_step(user)
    two_step.reset_two_step(user)
    if had_two_step:
        click.echo(f"Two-step verification turned off for {user.email}; their sessions were ended.")
    else:
        click.echo(f"{user.email} had no two-step verification; their sessions were ended.")
