"""``flask forms``: forms as code, and housekeeping a scheduler can run."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from app.exceptions import DomainError
from app.services import forms as form_service
from app.services.forms import definitions as form_definitions
from app.services.forms.templates import TEMPLATES

forms_cli = AppGroup("forms", help="Create, export and import forms.")


@forms_cli.command("new")
@click.option("--template", "template", default="blank", type=click.Choice(list(TEMPLATES)))
@click.option("--slug", required=True, help="The form's address: /f/SLUG.")
@click.option("--title", default=None, help="Defaults to the template's title.")
@click.option("--publish", is_flag=True, help="Publish it at once, so /f/SLUG takes answers.")
@click.option(
    "--endpoint",
    is_flag=True,
    help="A static-site endpoint: your own HTML form posts to /f/SLUG. It takes posts at once.",
)
def new_form(template: str, slug: str, title: str | None, publish: bool, endpoint: bool) -> None:
    """Create a form from a template, or a static-site endpoint."""
    if endpoint and template != "blank":
        raise click.BadParameter(
            "An endpoint has no questions to start from.", param_hint="--template"
        )
    try:
        if endpoint:
            form = form_service.create_endpoint(None, title=title, slug=slug)
        else:
            form = form_service.create_form(None, title=title, template=template, slug=slug)
        if publish and not endpoint:
            form_service.publish(form, None)
    except DomainError as error:
        raise click.BadParameter(error.message, param_hint=f"--{error.field or 'slug'}") from None
    if endpoint:
        click.echo(f"Created endpoint {form.slug!r}: point your form's action at /f/{form.slug}")
        return
    state = "published" if publish else "draft"
    click.echo(f"Created form {form.slug!r} ({state}): /f/{form.slug}")


@forms_cli.command("list")
def list_forms() -> None:
    """List forms with their status and submission count."""
    for form in _all_forms():
        click.echo(f"{form.slug}\t{form.status.value}\t{form.submission_count}\t{form.title}")


def _all_forms():
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Form

    return db.session.scalars(select(Form).where(Form.deleted_at.is_(None)).order_by(Form.slug))


@forms_cli.command("export")
@click.argument("slug")
def export_form(slug: str) -> None:
    """Print a form's definition as JSON."""
    form = form_service.get_form_by_slug(slug)
    if form is None or form.in_trash:
        raise click.BadParameter(f"no form with slug {slug!r}", param_hint="SLUG")
    click.echo(json.dumps(form_definitions.export_definition(form), indent=2, ensure_ascii=False))


@forms_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_form(file: Path) -> None:
    """Create or update a form from a definition file (see `flask forms export`)."""
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.BadParameter("the file is not UTF-8 text", param_hint="FILE") from None
    try:
        form, created = form_definitions.import_definition(text)
    except form_definitions.DefinitionError as error:
        raise click.BadParameter(f"{file}: {error}", param_hint="FILE") from None
    click.echo(f"{'Created' if created else 'Updated'} form {form.slug!r} ({form.status.value}).")


@forms_cli.command("purge-trash")
def purge_trash() -> None:
    """Delete forms that have been in the trash for more than 30 days."""
    count = form_service.purge_trashed_forms()
    click.echo(f"Purged {count} form{'s' if count != 1 else ''} from the trash.")
