"""The WSGI entry point for gunicorn (``gunicorn wsgi:app``) and the ``flask`` command."""

from app import create_app
from config import ConfigurationError

try:
    app = create_app()
except ConfigurationError as error:
    # One clear line instead of a traceback: the operator has a setting to fix.
    raise SystemExit(f"Formyard cannot start: {error}") from None
