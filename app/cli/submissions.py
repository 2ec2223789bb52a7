"""``flask submissions``: fill a form with realistic submissions, empty the trash."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from app.exceptions import DomainError
from app.extensions import db
from app.models import Form
from app.ops import seeding
from app.services import forms as form_service
from app.services.inbox import rollups
from app.services.inbox import triage

submissions_cli = AppGroup(
    "submissions", help="Seed submissions, rebuild summaries and purge the trash."
)


def _find_form(value: str) -> Form:
    form = form_service.get_form_by_slug(value)
    if form is None and value.isdigit():
        form = db.session.get(Form, int(value))
    if form is None or form.in_trash:
        raise click.BadParameter(f"no form with slug or id {value!r}", param_hint="FORM")
    return form


@submissions_cli.command("seed")
@click.argument("form")
@click.option("--count", default=1000, show_default=True, type=click.IntRange(1, 10_000_000))
@click.option("--days", default=365, show_default=True, type=click.IntRange(1, 3650))
@click.option("--seed", "random_seed", default=1, show_default=True, help="Same seed, same rows.")
def seed(form: str, count: int, days: int, random_seed: int) -> None:
    """Add COUNT realistic submissions to FORM (its slug or id), spread over the last DAYS."""
    target = _find_form(form)
    started = time.perf_counter()
    try:
        result = seeding.seed_submissions(target, count, days=days, seed=random_seed)
    except DomainError as error:
        raise click.BadParameter(error.message, param_hint="FORM") from None
    seconds = time.perf_counter() - started
    click.echo(
        f"Seeded {result.count:,} submissions into {result.form.slug!r} in {seconds:.1f} s "
        f"({result.count / seconds:,.0f} rows/s)."
    )


@submissions_cli.command("purge-trash")
def purge_trash() -> None:
    """Delete submissions that have been in the trash for more than 30 days."""
    count = triage.purge_trash()
    click.echo(f"Purged {count} submission{'s' if count != 1 else ''} from the trash.")


@submissions_cli.command("rebuild-summaries")
@click.argument("form", required=False)
def rebuild_summaries(form: str | None) -> None:
    """Recount the summary rollups of FORM (its slug or id), or of every form, from the stored
    submissions: once after upgrading to them, or whenever they are in doubt. Submissions to a
    form wait while it is recounted (about ten seconds per million)."""
    form_ids = [_find_form(form).id] if form else rollups.form_ids()
    for form_id in form_ids:
        started = time.perf_counter()
        counted = rollups.rebuild(form_id)
        seconds = time.perf_counter() - started
        click.echo(f"Form {form_id}: counted {counted:,} submissions in {seconds:.1f} s.")
