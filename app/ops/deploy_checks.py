"""What is unsafe or missing for production in the running configuration (``flask check-deploy``).

Settings are judged from the app's config alone; the services (database, migrations, Redis,
outbox) are asked, so the checks need an app context.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import redis
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select

from app.extensions import db
from app.models import Delivery
from app.models.delivery import DeliveryStatus
from app.models.types import utcnow
from app.ops import health
from app.services.accounts.users import any_user_exists
from config import HOST_COOKIE_PREFIX
from config import MIN_SECRET_KEY_LENGTH
from config import WEAK_SECRET_KEYS

ERROR = "error"
WARNING = "warning"
# Deliveries waiting longer than this mean no worker is taking them.
BACKLOG_AGE = timedelta(minutes=10)
# Variables a platform sets in every process, and the platform's name.
PLATFORM_MARKERS = {"DYNO": "Heroku", "RENDER": "Render", "FLY_APP_NAME": "Fly.io"}
TRUE = {"1", "true", "yes", "on"}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}  # noqa: S104 (a name to compare)


@dataclass(frozen=True)
class Finding:
    id: str
    level: str
    message: str
    fix: str


def check_deployment(config: Mapping[str, Any]) -> list[Finding]:
    """Every finding, errors first; an empty list means ready for production."""
    findings = [*check_settings(config, os.environ)]
    findings += check_services(config)
    return sorted(findings, key=lambda finding: finding.level != ERROR)


def check_settings(config: Mapping[str, Any], environ: Mapping[str, str]) -> list[Finding]:
    checks = (
        _app_env,
        _secret_key,
        _database,
        _redis_configured,
        _base_url,
        _trusted_hosts,
        _cookies,
        _cookie_names,
        _mail,
        _webhooks,
    )
    findings = [finding for check in checks if (finding := check(config))]
    findings += filter(None, [_debug(config, environ), _proxies(config, environ)])
    return findings


def _app_env(config: Mapping[str, Any]) -> Finding | None:
    if config["APP_ENV"] == "production":
        return None
    return Finding(
        "app-env",
        ERROR,
        f"APP_ENV is {config['APP_ENV']}: development settings (no HSTS, private webhooks).",
        "Unset APP_ENV; production is the default.",
    )


def _secret_key(config: Mapping[str, Any]) -> Finding | None:
    key = config.get("SECRET_KEY") or ""
    weak = key.strip().lower() in WEAK_SECRET_KEYS or len(key) < MIN_SECRET_KEY_LENGTH
    if not weak and len(set(key)) >= 10:
        return None
    return Finding(
        "secret-key",
        ERROR,
        "SECRET_KEY is missing, a well-known value or too short: sessions can be forged.",
        "Set SECRET_KEY to `python -c 'import secrets; print(secrets.token_hex(32))'`.",
    )


def _debug(config: Mapping[str, Any], environ: Mapping[str, str]) -> Finding | None:
    # The flask command resets app.debug from FLASK_DEBUG, so look at the variables too.
    flags = (environ.get("DEBUG", ""), environ.get("FLASK_DEBUG", ""))
    if not config.get("DEBUG") and not any(flag.strip().lower() in TRUE for flag in flags):
        return None
    return Finding(
        "debug", ERROR, "DEBUG is on: tracebacks and the debugger are exposed.", "Unset DEBUG."
    )


def _database(config: Mapping[str, Any]) -> Finding | None:
    if not config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return None
    return Finding(
        "database-sqlite",
        WARNING,
        "The database is SQLite: one machine only, and a platform's disk is not kept.",
        "Set DATABASE_URL to a PostgreSQL database.",
    )


def _redis_configured(config: Mapping[str, Any]) -> Finding | None:
    if not config["RATELIMIT_STORAGE_URI"].endswith("memory://"):
        return None
    return Finding(
        "redis-missing",
        WARNING,
        "Rate limits are counted in memory, per process: N processes allow N times more.",
        "Set REDIS_URL (Heroku Redis, Render Key Value, or redis://host:6379/0).",
    )


def _base_url(config: Mapping[str, Any]) -> Finding | None:
    base_url = config["BASE_URL"]
    parts = urlsplit(base_url)
    if parts.hostname in LOCAL_HOSTS or not parts.hostname:
        return Finding(
            "base-url",
            ERROR,
            f"BASE_URL is {base_url}: links in emails and webhooks lead nowhere.",
            "Set BASE_URL to the address people use, e.g. https://forms.example.org.",
        )
    if parts.scheme != "https":
        return Finding(
            "base-url-https",
            WARNING,
            f"BASE_URL is {base_url}: sign-ins and answers travel unencrypted.",
            "Serve Formyard over HTTPS and set BASE_URL to its https:// address.",
        )
    return None


def _trusted_hosts(config: Mapping[str, Any]) -> Finding | None:
    hosts = config.get("TRUSTED_HOSTS") or []
    if not hosts:
        return Finding(
            "trusted-hosts",
            ERROR,
            "TRUSTED_HOSTS is empty: any Host header is accepted (poisoned links).",
            "Set BASE_URL (its host is trusted) or TRUSTED_HOSTS.",
        )
    host = urlsplit(config["BASE_URL"]).hostname
    if host and host not in LOCAL_HOSTS and host not in hosts:
        return Finding(
            "trusted-hosts",
            ERROR,
            f"TRUSTED_HOSTS ({', '.join(hosts)}) lacks {host}, the host of BASE_URL: it gets 400.",
            f"Add {host} to TRUSTED_HOSTS, or unset TRUSTED_HOSTS.",
        )
    return None


def _cookies(config: Mapping[str, Any]) -> Finding | None:
    if config.get("SESSION_COOKIE_SECURE"):
        return None
    return Finding(
        "cookies-insecure",
        WARNING,
        "SESSION_COOKIE_SECURE is off: session cookies are sent over plain HTTP too.",
        "Unset SESSION_COOKIE_SECURE (on by default in production).",
    )


def _cookie_names(config: Mapping[str, Any]) -> Finding | None:
    if not config.get("SESSION_COOKIE_SECURE"):
        return None  # _cookies says so; a __Host- cookie must be Secure
    loose = [
        kind
        for kind in ("SESSION", "REMEMBER")
        if not str(config.get(f"{kind}_COOKIE_NAME", "")).startswith(HOST_COOKIE_PREFIX)
        or config.get(f"{kind}_COOKIE_DOMAIN")
        or config.get(f"{kind}_COOKIE_PATH", "/") not in {"/", None}
    ]
    if not loose:
        return None
    return Finding(
        "cookie-prefix",
        WARNING,
        f"The {' and '.join(kind.lower() for kind in loose)} cookie has no {HOST_COOKIE_PREFIX} "
        "prefix (or sets a Domain or Path): another subdomain could set one that shadows it.",
        "Unset APP_ENV (production names them __Host-formyard_session and "
        "__Host-formyard_remember) and any *_COOKIE_NAME, *_COOKIE_DOMAIN or *_COOKIE_PATH.",
    )


def _mail(config: Mapping[str, Any]) -> Finding | None:
    if config.get("MAIL_SERVER"):
        return None
    return Finding(
        "mail-missing",
        WARNING,
        "No MAIL_SERVER: notifications, invitations and password resets wait in the outbox.",
        "Set MAIL_SERVER, MAIL_PORT, MAIL_USE_TLS, MAIL_USERNAME and MAIL_PASSWORD.",
    )


def _webhooks(config: Mapping[str, Any]) -> Finding | None:
    if not config.get("WEBHOOK_ALLOW_PRIVATE"):
        return None
    return Finding(
        "webhook-private",
        WARNING,
        "WEBHOOK_ALLOW_PRIVATE is on: editors can make the server call its private network.",
        "Unset WEBHOOK_ALLOW_PRIVATE.",
    )


def _proxies(config: Mapping[str, Any], environ: Mapping[str, str]) -> Finding | None:
    platform = next((name for marker, name in PLATFORM_MARKERS.items() if marker in environ), None)
    if platform is None or config.get("TRUSTED_PROXY_COUNT"):
        return None
    return Finding(
        "proxy-count",
        WARNING,
        f"Running on {platform} with TRUSTED_PROXY_COUNT=0: every client looks like the "
        "router (one rate limit for all) and requests look like plain HTTP.",
        "Set TRUSTED_PROXY_COUNT=1.",
    )


def check_services(config: Mapping[str, Any]) -> list[Finding]:
    readiness = health.check_readiness()
    if readiness.database != "ok":
        return [
            Finding(
                "database-unreachable",
                ERROR,
                f"The database does not answer ({readiness.database}).",
                "Check DATABASE_URL and that the database server is up.",
            )
        ]
    findings = []
    if readiness.migrations != "at head":
        findings.append(
            Finding(
                "migrations",
                ERROR,
                f"The schema is at {readiness.current_revision or 'no revision'}, "
                f"not {readiness.head_revision}.",
                "Run `flask db upgrade` (the Procfile's release step does).",
            )
        )
    else:
        findings += filter(None, [_outbox_backlog(), _setup(config)])
    findings += filter(None, [_redis_reachable(config)])
    return findings


def _outbox_backlog() -> Finding | None:
    cutoff = utcnow() - BACKLOG_AGE
    waiting = db.session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(
            or_(
                and_(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= cutoff),
                and_(
                    Delivery.status == DeliveryStatus.SENDING, Delivery.lease_expires_at <= cutoff
                ),
            )
        )
    )
    db.session.rollback()
    if not waiting:
        return None
    return Finding(
        "outbox-backlog",
        WARNING,
        f"{waiting} deliveries have waited over {BACKLOG_AGE.seconds // 60} minutes: "
        "no worker seems to be running.",
        "Run `flask worker` (the Procfile's worker process) or `flask worker --once` every minute.",
    )


def _setup(config: Mapping[str, Any]) -> Finding | None:
    exists = any_user_exists()
    db.session.rollback()
    if exists:
        return None
    if not config.get("SETUP_CODE_REQUIRED"):
        return Finding(
            "setup-open",
            ERROR,
            "No owner yet, and /setup asks for no setup code: the first visitor can claim it.",
            "Run `flask users create --role owner --email ...` now, or unset APP_ENV so /setup "
            "asks for the code printed in the log.",
        )
    return Finding(
        "setup-pending",
        WARNING,
        "No owner yet: /setup waits for the setup code gunicorn printed in the log at start.",
        "Open BASE_URL/setup with that code, or run `flask users create --role owner --email ...`.",
    )


def _redis_reachable(config: Mapping[str, Any]) -> Finding | None:
    url = config["RATELIMIT_STORAGE_URI"]
    if not url.startswith(("redis://", "rediss://")):
        return None
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        client.ping()
        client.close()
    except redis.RedisError as error:
        return Finding(
            "redis-unreachable",
            ERROR,
            f"Redis does not answer ({type(error).__name__}: {error}); rate limits fall back "
            "to per-process counts.",
            "Check REDIS_URL; for Heroku Redis's self-signed certificate set "
            "REDIS_SSL_CERT_REQS=none.",
        )
    return None
