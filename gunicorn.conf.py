"""gunicorn settings from the platform's environment (Heroku, Render, docker)."""

import os
import sys

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# Formyard logs one line per request itself; gunicorn's access log would repeat it.
accesslog = None
errorlog = "-"
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
# gunicorn's control socket is one file per user ($HOME/.gunicorn/gunicorn.ctl) that every
# instance would share, and the Docker image's user has no home to write it in; nothing uses it.
control_socket_disable = True

# gunicorn's own lines (start, workers, timeouts, errors) and other libraries' warnings go
# through Formyard's formatters too: one line per record whatever a client sent, and JSON
# objects when LOG_FORMAT=json.
if os.environ.get("LOG_FORMAT", "").strip().lower() == "json":
    _log_formatter = {"()": "app.logs.JsonFormatter"}
else:
    _log_formatter = {
        "()": "app.logs.TextFormatter",
        "fmt": "%(asctime)s [%(process)d] [%(levelname)s] %(message)s",
        "datefmt": "[%Y-%m-%d %H:%M:%S %z]",
    }
logconfig_dict = {
    # Other libraries' warnings, as Python shows them without any logging set up.
    "root": {"level": "WARNING", "handlers": ["error_console"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
        # Formyard logs each request itself.
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
    },
    "handlers": {
        "error_console": {
            "class": "logging.StreamHandler",
            "formatter": "formyard",
            "stream": "ext://sys.stderr",
        },
    },
    "formatters": {"formyard": _log_formatter},
}


def on_starting(server) -> None:
    """Check the settings once, in the master, before any worker boots: a refused setting
    (a weak SECRET_KEY, DEBUG in production) stops gunicorn with one line and a non-zero exit
    status, where each worker refusing in turn would make the master boot new ones forever
    while the platform sees a running process."""
    from config import ConfigurationError
    from config import load_config

    try:
        settings = load_config()
        settings.validate()
    except ConfigurationError as error:
        print(f"Formyard cannot start: {error}", file=sys.stderr, flush=True)
        sys.exit(1)
    from app.ops.first_run import setup_code_announcement

    # A fresh install: /setup asks for this code, so the first visitor cannot claim it.
    announcement = setup_code_announcement(settings)
    if announcement:
        server.log.warning(announcement)
