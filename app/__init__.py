"""Formyard: a self-hosted form builder and submission inbox."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from app import error_reporting
from app import request_checks
from app import security
from app import static_files
from config import load_config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides settings (tests use it); ``APP_ENV`` picks the base."""
    overrides = dict(config or {})
    settings = load_config(overrides.get("APP_ENV"))
    for key, value in overrides.items():
        setattr(settings, key, value)
    settings.validate()

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(settings)
    os.makedirs(app.instance_path, exist_ok=True)

    # First, so its hooks run first on the way in (host check, request id) and last on the way
    # out (headers the extensions add are final by then).
    security.init_app(app)
    request_checks.init_app(app)
    static_files.init_app(app)
    error_reporting.init_app(app)
    register_extensions(app)
    register_metrics(app)
    register_hooks(app)
    register_blueprints(app)
    register_commands(app)
    register_deliveries(app)
    register_summaries()
    return app


def register_extensions(app: Flask) -> None:
    from app import database
    from app.auth.session import CookieSessionInterface
    from app.auth.session import configure_login_manager
    from app.extensions import csrf
    from app.extensions import db
    from app.extensions import limiter
    from app.extensions import login_manager
    from app.extensions import migrate
    from app.ratelimit import keep_limiter_off

    db.init_app(app)
    database.configure_engine_events()
    migrate.init_app(
        app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True
    )
    csrf.init_app(app)
    limiter.init_app(app)
    keep_limiter_off(app, limiter, "public")
    login_manager.init_app(app)
    configure_login_manager(login_manager)
    app.session_interface = CookieSessionInterface()


def register_blueprints(app: Flask) -> None:
    from app.account import bp as account_bp
    from app.api import init_app as register_api
    from app.audit import bp as audit_bp
    from app.auth import bp as auth_bp
    from app.builder import bp as builder_bp
    from app.dashboard import bp as dashboard_bp
    from app.health import bp as health_bp
    from app.inbox import bp as inbox_bp
    from app.integrations import bp as integrations_bp
    from app.public import bp as public_bp
    from app.users import bp as users_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(inbox_bp)
    app.register_blueprint(integrations_bp, url_prefix="/forms/<int:form_id>")
    app.register_blueprint(builder_bp, url_prefix="/forms")
    app.register_blueprint(account_bp, url_prefix="/account")
    app.register_blueprint(users_bp, url_prefix="/users")
    app.register_blueprint(audit_bp, url_prefix="/audit")
    register_api(app)


def register_hooks(app: Flask) -> None:
    from flask_login import current_user

    from app import errors
    from app.markdown import render_markdown
    from app.models import Role

    errors.init_app(app)
    request_checks.init_after_extensions(app)
    app.jinja_env.globals["Role"] = Role
    # Also for macros imported without the page's context (the form's tabs).
    app.jinja_env.globals["current_user"] = current_user
    app.jinja_env.filters["markdown"] = render_markdown


def register_metrics(app: Flask) -> None:
    # Off by default: then prometheus_client is not even imported.
    if app.config["METRICS_TOKEN"]:
        from app.ops import metrics

        metrics.init_app(app)


def register_commands(app: Flask) -> None:
    from app import cli

    cli.init_app(app)


def register_summaries() -> None:
    from app.services.inbox import rollups

    rollups.connect_receivers()


def register_deliveries(app: Flask) -> None:
    from app.cli.worker import served_by_flask_run
    from app.services.delivery import deliveries
    from app.services.delivery.worker import start_in_thread

    deliveries.connect_receivers()
    # `make run` needs no second process; gunicorn, tests and other commands get no thread.
    if app.config["APP_ENV"] == "development" and served_by_flask_run():
        start_in_thread(app)
