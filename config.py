"""Configuration from the environment.

``APP_ENV`` picks one of the classes below; production is the default so that a server
started without settings never runs with development conveniences. Values are read when a
class is instantiated (in ``create_app``), not at import time, so tests can change the
environment freely. ``.env`` is loaded here so gunicorn and ``flask`` commands see it too.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

load_dotenv(BASE_DIR / ".env")

# Secret keys people paste from tutorials; production refuses them.
WEAK_SECRET_KEYS = {
    "",
    "dev",
    "secret",
    "changeme",
    "change-me",
    "change-this",
    "your-secret-key",
    "secret-key",
    "replace-me",
}
MIN_SECRET_KEY_LENGTH = 32
KEY_COMMAND = "`python -c 'import secrets; print(secrets.token_hex(32))'`"
HOST_COOKIE_PREFIX = "__Host-"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")


class ConfigurationError(RuntimeError):
    """A setting makes the app unsafe or unable to run; the message says which and how to fix it."""


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {value!r}") from None


def env_seconds(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise ConfigurationError(f"{name} must be a number of seconds, got {value!r}")
    return seconds


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def normalize_database_url(url: str) -> str:
    """Accept Heroku's ``postgres://`` form and pick the psycopg 3 driver for PostgreSQL."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def redis_url_with_cert_policy(url: str) -> str:
    """Add ``REDIS_SSL_CERT_REQS`` to a ``rediss://`` URL: Heroku Redis presents a self-signed
    certificate, and its REDIS_URL is managed by the add-on, so it cannot carry the option."""
    policy = os.environ.get("REDIS_SSL_CERT_REQS", "").strip().lower()
    if not policy or not url.startswith("rediss://") or "ssl_cert_reqs=" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}ssl_cert_reqs={policy}"


def default_sqlite_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'formyard.sqlite3'}"


class BaseConfig:
    APP_ENV = "production"
    DEBUG = False
    TESTING = False

    def __init__(self) -> None:
        self.SECRET_KEY = os.environ.get("SECRET_KEY", "")
        self.DEBUG = env_bool("DEBUG", self.DEBUG)
        self.BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        self.SQLALCHEMY_DATABASE_URI = normalize_database_url(
            os.environ.get("DATABASE_URL", "") or default_sqlite_url()
        )
        # Connections are pinged before use when they sat idle (app/database.py), not always.
        self.SQLALCHEMY_ENGINE_OPTIONS = {}
        self.SQLALCHEMY_TRACK_MODIFICATIONS = False
        self.REDIS_URL = os.environ.get("REDIS_URL", "")
        self.TRUSTED_HOSTS = env_list("TRUSTED_HOSTS") or self.default_trusted_hosts()

        self.SESSION_COOKIE_NAME = "formyard_session"
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
        self.PERMANENT_SESSION_LIFETIME = timedelta(hours=env_int("SESSION_HOURS", 12))
        self.REMEMBER_COOKIE_NAME = "formyard_remember"
        self.REMEMBER_COOKIE_DURATION = timedelta(days=min(env_int("REMEMBER_DAYS", 14), 14))
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE

        self.WTF_CSRF_TIME_LIMIT = None  # tied to the session instead of a clock
        self.MAX_CONTENT_LENGTH = env_int("MAX_CONTENT_LENGTH", 25 * 1024 * 1024)

        self.RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "") or (
            redis_url_with_cert_policy(self.REDIS_URL) or "formyard-memory://"
        )
        self.RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "formyard:")
        self.RATELIMIT_HEADERS_ENABLED = True
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        # Days submissions are kept when a form does not say (empty: kept), and the audit log.
        self.RETENTION_DAYS = env_int("RETENTION_DAYS", 0) or None
        self.AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 400)
        self.LOGIN_FAILURE_LIMIT = os.environ.get("LOGIN_FAILURE_LIMIT", "5 per 15 minutes")
        # Dangerous actions (new API token, role change, export, ...) ask for the password or
        # a code again when the last proof is older than this.
        self.FRESH_SIGN_IN_MINUTES = env_int("FRESH_SIGN_IN_MINUTES", 10)
        # Seconds a process may serve a form's settings from memory before reading them again.
        self.PUBLIC_FORM_TTL = env_seconds("PUBLIC_FORM_TTL", 2.0)
        # Submissions one address may send to one form.
        self.SUBMISSION_RATE_LIMIT = os.environ.get("SUBMISSION_RATE_LIMIT", "10 per minute")
        # API requests per token, and per address for requests without a valid token.
        self.API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600 per minute")
        self.API_ANONYMOUS_RATE_LIMIT = os.environ.get("API_ANONYMOUS_RATE_LIMIT", "60 per minute")
        # API bodies are JSON; a smaller limit than uploads need.
        self.API_MAX_CONTENT_LENGTH = env_int("API_MAX_CONTENT_LENGTH", 1024 * 1024)

        self.HSTS_ENABLED = True
        # A fresh install's /setup asks for the code printed in the log (gunicorn.conf.py).
        self.SETUP_CODE_REQUIRED = True
        # Proxies in front of us (the platform's router, a load balancer) that set X-Forwarded-*.
        self.TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
        self.LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").strip().upper()
        if self.LOG_LEVEL not in LOG_LEVELS:
            raise ConfigurationError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        self.LOG_FORMAT = os.environ.get("LOG_FORMAT", "").strip().lower() or "text"
        if self.LOG_FORMAT not in LOG_FORMATS:
            raise ConfigurationError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
        # /metrics answers only with this as a Bearer token; unset, it is off (404).
        self.METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "").strip()
        self.SENTRY_DSN = os.environ.get("SENTRY_DSN", "").strip()
        self.SENTRY_ENVIRONMENT = os.environ.get("SENTRY_ENVIRONMENT", "").strip() or self.APP_ENV
        self.read_delivery_settings()

    def read_delivery_settings(self) -> None:
        # SMTP, with the names Flask-Mail made familiar. No MAIL_SERVER outside production
        # means messages are logged and written to MAIL_FILE_DIR instead.
        self.MAIL_SERVER = os.environ.get("MAIL_SERVER", "").strip()
        self.MAIL_PORT = env_int("MAIL_PORT", 25)
        self.MAIL_USE_TLS = env_bool("MAIL_USE_TLS")
        self.MAIL_USE_SSL = env_bool("MAIL_USE_SSL")
        self.MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
        self.MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
        host = urlsplit(self.BASE_URL).hostname or "localhost"
        self.MAIL_DEFAULT_SENDER = (
            os.environ.get("MAIL_DEFAULT_SENDER", "").strip() or f"Formyard <formyard@{host}>"
        )
        self.MAIL_TIMEOUT = env_int("MAIL_TIMEOUT", 20)
        # PEM bundles of CAs trusted instead of the system's, for servers with a private CA.
        self.MAIL_CA_FILE = os.environ.get("MAIL_CA_FILE", "").strip()
        self.WEBHOOK_CA_FILE = os.environ.get("WEBHOOK_CA_FILE", "").strip()
        self.MAIL_FILE_DIR = str(INSTANCE_DIR / "mail")
        # Webhooks to loopback and private networks: off in production (SSRF), on in development.
        self.WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
        self.WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 5)
        self.WORKER_POLL_SECONDS = env_int("WORKER_POLL_SECONDS", 2)
        self.WORKER_LEASE_SECONDS = env_int("WORKER_LEASE_SECONDS", 120)
        # Wait after a delivery's first failed try; it doubles after each further one, to 4 h.
        self.WORKER_FIRST_RETRY_SECONDS = env_int("WORKER_FIRST_RETRY_SECONDS", 30)
        self.PASSWORD_RESET_LIMIT = os.environ.get("PASSWORD_RESET_LIMIT", "5 per hour")

    def default_trusted_hosts(self) -> list[str]:
        host = urlsplit(self.BASE_URL).hostname
        return [host] if host else []

    def validate(self) -> None:
        """Refuse settings that would be unsafe; called by the factory."""
        if self.MAIL_USE_TLS and self.MAIL_USE_SSL:
            raise ConfigurationError(
                "MAIL_USE_TLS (STARTTLS, usually port 587) and MAIL_USE_SSL (port 465) "
                "exclude each other; set one"
            )
        for name in ("MAIL_CA_FILE", "WEBHOOK_CA_FILE"):
            path = getattr(self, name)
            if path and not os.path.isfile(path):
                raise ConfigurationError(f"{name} names {path}, which is not a file")
        if self.WORKER_FIRST_RETRY_SECONDS < 1:
            raise ConfigurationError("WORKER_FIRST_RETRY_SECONDS must be at least 1")
        slowest_send = max(self.MAIL_TIMEOUT, self.WEBHOOK_TIMEOUT)
        if 2 * slowest_send > self.WORKER_LEASE_SECONDS:
            # A lease shorter than a send would let a second worker send the same delivery.
            raise ConfigurationError(
                f"WORKER_LEASE_SECONDS must be at least {2 * slowest_send} (twice the longest "
                "of MAIL_TIMEOUT and WEBHOOK_TIMEOUT)"
            )


class DevelopmentConfig(BaseConfig):
    APP_ENV = "development"
    DEBUG = False

    def __init__(self) -> None:
        super().__init__()
        self.SECRET_KEY = self.SECRET_KEY or instance_secret_key()
        self.SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.HSTS_ENABLED = False
        self.SETUP_CODE_REQUIRED = False
        self.WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", True)

    def default_trusted_hosts(self) -> list[str]:
        return sorted({*super().default_trusted_hosts(), "127.0.0.1", "localhost"})


class TestingConfig(DevelopmentConfig):
    APP_ENV = "testing"
    TESTING = True

    def __init__(self) -> None:
        super().__init__()
        self.SECRET_KEY = "testing-secret-key-that-is-long-enough-0123456789"  # noqa: S105
        self.RATELIMIT_STORAGE_URI = "formyard-memory://"
        self.TRUSTED_HOSTS = ["localhost", "127.0.0.1"]
        # Tests opt in to loopback receivers, so the refusals are what they see by default.
        self.WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)


class ProductionConfig(BaseConfig):
    def __init__(self) -> None:
        super().__init__()
        if self.SESSION_COOKIE_SECURE:
            self.use_host_prefixed_cookies()

    def use_host_prefixed_cookies(self) -> None:
        """``__Host-`` names for the session and remember-me cookies: a browser keeps such a
        cookie only when it is Secure, for ``Path=/`` and without a Domain, so no other
        subdomain (and no plain-HTTP page) can set one that shadows ours. Development keeps
        plain names, because it serves plain HTTP, where Secure cookies are not stored."""
        for kind in ("SESSION", "REMEMBER"):
            name = getattr(self, f"{kind}_COOKIE_NAME")
            setattr(self, f"{kind}_COOKIE_NAME", HOST_COOKIE_PREFIX + name)
            setattr(self, f"{kind}_COOKIE_PATH", "/")
            setattr(self, f"{kind}_COOKIE_DOMAIN", None)

    def validate(self) -> None:
        super().validate()
        key = self.SECRET_KEY
        if not key.strip():
            raise ConfigurationError(f"SECRET_KEY is missing; generate one with {KEY_COMMAND}")
        weak = key.strip().lower() in WEAK_SECRET_KEYS
        if weak or len(key) < MIN_SECRET_KEY_LENGTH or len(set(key)) < 10:
            raise ConfigurationError(
                f"SECRET_KEY is too weak: use at least {MIN_SECRET_KEY_LENGTH} random "
                f"characters, generated with {KEY_COMMAND}"
            )
        if self.DEBUG:
            raise ConfigurationError("DEBUG must be off in production (unset DEBUG)")


CONFIGS: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(app_env: str | None = None) -> BaseConfig:
    name = (app_env or os.environ.get("APP_ENV") or "production").strip().lower()
    try:
        config_class = CONFIGS[name]
    except KeyError:
        choices = ", ".join(CONFIGS)
        raise ConfigurationError(f"APP_ENV={name!r} is unknown; use one of {choices}") from None
    return config_class()


def instance_secret_key() -> str:
    """A random key made once and kept in instance/, so development sessions survive restarts."""
    path = INSTANCE_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
