"""``flask check-deploy``: what is unsafe or missing before this configuration meets the public."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.ops.deploy_checks import ERROR
from app.ops.deploy_checks import check_deployment


@click.command("check-deploy")
@with_appcontext
def check_deploy_command() -> None:
    """List what is unsafe or missing for production; exit 1 when anything is."""
    findings = check_deployment(current_app.config)
    if not findings:
        click.echo("No problems found.")
        return
    for finding in findings:
        click.echo(f"{finding.level.upper():<8}{finding.id}: {finding.message}")
        click.echo(f"{'':<8}fix: {finding.fix}")
    errors = sum(finding.level == ERROR for finding in findings)
    warnings = len(findings) - errors
    click.echo(f"\n{errors} error(s), {warnings} warning(s).")
    raise SystemExit(1)
