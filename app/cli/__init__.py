"""``flask`` commands. They call the same services as the pages; bad input exits with code 2."""

from flask import Flask

from app.cli.deploy import check_deploy_command
from app.cli.forms import forms_cli
from app.cli.submissions import submissions_cli
from app.cli.tokens import tokens_cli
from app.cli.users import users_cli
from app.cli.worker import worker_command


def init_app(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(forms_cli)
    app.cli.add_command(submissions_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(check_deploy_command)
