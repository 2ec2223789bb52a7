"""What the server says at start on a fresh install: the setup code /setup asks for.

gunicorn's master calls ``setup_code_announcement`` once, before any worker boots (see
gunicorn.conf.py), so the code is printed once per start and only while no owner exists.
"""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.models import User
from app.services.accounts.setup_code import setup_code_message
from config import BaseConfig


def setup_code_announcement(settings: BaseConfig) -> str | None:
    """The line to log while /setup needs a code and no owner exists yet; None otherwise."""
    if not settings.SETUP_CODE_REQUIRED or owner_exists(settings.SQLALCHEMY_DATABASE_URI):
        return None
    return setup_code_message(settings.SECRET_KEY, settings.BASE_URL)


def owner_exists(database_url: str) -> bool:
    """Whether anyone can sign in already. A database without its tables yet (the release step
    has not run) or out of reach counts as no: the code is printed, and /setup still checks."""
    # gunicorn waits for this before it binds: a database out of reach may not hold it long.
    postgresql = database_url.startswith("postgres")
    engine = create_engine(database_url, connect_args={"connect_timeout": 5} if postgresql else {})
    try:
        with engine.connect() as connection:
            return connection.execute(select(User.id).limit(1)).first() is not None
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()
