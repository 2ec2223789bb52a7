"""``flask worker``: send what is in the outbox. Also decides when ``flask run`` does it itself."""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

import click
from flask import current_app
from flask.cli import get_debug_flag
from flask.cli import run_command
from flask.cli import with_appcontext

from app.services.delivery.worker import Worker

log = logging.getLogger("formyard.worker")


@click.command("worker")
@click.option("--once", is_flag=True, help="Send what is due now, then exit (for a scheduler).")
@with_appcontext
def worker_command(once: bool) -> None:
    """Send queued emails and webhook calls; run as many as you like."""
    app = current_app._get_current_object()
    worker = Worker(app)
    if once:
        click.echo(f"Handled {worker.run_once(limit=10_000)} deliveries.")
        return
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        # Finish the delivery in hand, then leave: nothing is sent twice on a restart.
        log.info("worker got signal %s; stopping after the current delivery", signum)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    worker.run(stop)


def served_by_flask_run() -> bool:
    """Whether this process is the one ``flask run`` serves requests from: not gunicorn, not
    another ``flask`` command, and not the reloader's watching parent."""
    context = click.get_current_context(silent=True)
    if context is None or context.command is not run_command:
        return False
    reload = context.params.get("reload")
    reloading = get_debug_flag() if reload is None else reload
    return not reloading or os.environ.get("WERKZEUG_RUN_MAIN") == "true"
