"""``flask tokens``: personal API tokens for scripts and provisioning."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.exceptions import DomainError
from app.models import TokenScope
from app.models import User
from app.services.accounts import tokens as token_service
from app.services.accounts import users as user_service

tokens_cli = AppGroup("tokens", help="Create, list and revoke personal API tokens.")


def _user(email: str) -> User:
    user = user_service.find_user_by_email(email)
    if user is None:
        raise click.BadParameter(f"no user with email {email!r}", param_hint="--email")
    return user


@tokens_cli.command("create")
@click.option("--email", required=True, help="The user the token acts as.")
@click.option(
    "--scope",
    required=True,
    type=click.Choice([scope.value for scope in TokenScope]),
    help="read: GET only; write: read and write. Never more than the user's role.",
)
@click.option("--name", required=True, help="Where the token is used, e.g. 'CRM sync'.")
def create_token(email: str, scope: str, name: str) -> None:
    """Create a token and print it (only the token, on stdout); it is not shown again."""
    user = _user(email)
    try:
        token, value = token_service.create_token(user, name, scope)
    except DomainError as error:
        raise click.BadParameter(error.message, param_hint=f"--{error.field or 'name'}") from None
    click.echo(f"Created token {token.prefix}… ({token.scope.value}) for {user.email}.", err=True)
    click.echo(value)


@tokens_cli.command("list")
@click.option("--email", required=True, help="Whose tokens.")
def list_tokens(email: str) -> None:
    """List a user's tokens: id, start, scope, state, last use and name."""
    for token in token_service.list_tokens(_user(email)):
        state = "revoked" if token.is_revoked else "active"
        used = token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "never"
        click.echo(
            f"{token.id}\t{token.prefix}…\t{token.scope.value}\t{state}\tused: {used}\t{token.name}"
        )


@tokens_cli.command("revoke")
@click.option("--email", required=True, help="Whose token.")
@click.argument("token_id", type=int)
def revoke_token(email: str, token_id: int) -> None:
    """Revoke a token by its id (see `flask tokens list`); it stops working at once."""
    try:
        token = token_service.get_token_for(_user(email), token_id)
    except DomainError as error:
        raise click.BadParameter(error.message, param_hint="TOKEN_ID") from None
    token_service.revoke_token(token)
    click.echo(f"Revoked token {token.prefix}… ({token.name}).")
