"""The scenarios: a load on the public form, a fault injected on time, and the count of what
clients were told against what was stored."""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from tests.reliability.load import ACKNOWLEDGED
from tests.reliability.load import Load
from tests.reliability.load import p99_ms
from tests.reliability.load import run_load
from tests.reliability.servers import Gunicorn
from tests.reliability.servers import PostgresCluster
from tests.reliability.servers import RedisServer
from tests.reliability.servers import SmtpSink
from tests.reliability.servers import Supervisor
from tests.reliability.servers import WebhookReceiver

FIELDS = [
    {"key": "name", "type": "short_text", "label": "Name", "required": True},
    {"key": "email", "type": "email", "label": "Email", "required": True},
    {"key": "message", "type": "long_text", "label": "Message"},
]
RECOVERY_GRACE = 3.0  # seconds after a server is back in which its outage may still be seen


@dataclass
class Settings:
    seconds: float = 60.0
    clients: int = 50
    workers: int = 4
    kill_every: float = 10.0
    delivery_rate: float = 10.0  # submissions per second in scenario e, each mailed and posted
    drain_seconds: float = 120.0  # how long e waits for deliveries once the servers are back


@dataclass
class Result:
    name: str
    title: str
    acked: int = 0
    stored: int = 0
    lost: int = 0
    duplicated: int = 0
    server_errors: int = 0  # 5xx answers outside the expected outage
    expected_errors: int = 0  # 503s inside it
    throughput: float = 0.0
    p99: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and not self.lost and not self.server_errors

    def line(self) -> str:
        verdict = "ok  " if self.passed else "FAIL"
        details = "".join(f" {key}={value}" for key, value in self.extra.items())
        text = (
            f"{verdict} {self.name}) {self.title}: acked={self.acked} stored={self.stored} "
            f"lost={self.lost} 5xx={self.server_errors} expected_503={self.expected_errors} "
            f"throughput={self.throughput:.0f}/s p99={self.p99:.0f}ms{details}"
        )
        return text + "".join(f"\n     - {problem}" for problem in self.problems)


class Suite:
    """The servers and the database every scenario shares, and the scenarios themselves."""

    def __init__(self, settings: Settings, workdir: Path) -> None:
        self.settings = settings
        self.workdir = workdir
        self.supervisor = Supervisor(workdir)
        self.postgres = PostgresCluster(self.supervisor, workdir / "pg")
        self.redis = RedisServer(self.supervisor)
        self.run_id = secrets.token_hex(3)

    # --- servers and the app -------------------------------------------------------------

    def start(self) -> None:
        self.postgres.init()
        self.redis.start()
        self.migrate(self.postgres.url)

    def stop(self) -> None:
        self.supervisor.stop_all()
        self.postgres.shut_down()

    def app_env(self, database_url: str, **extra: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("GUNICORN_", "FLASK_", "MAIL_", "WORKER_", "RATELIMIT_"))
            and key not in {"WEB_CONCURRENCY", "REDIS_URL", "DATABASE_URL"}
        }
        env.update(
            APP_ENV="production",
            SECRET_KEY=secrets.token_hex(32),
            DATABASE_URL=database_url,
            REDIS_URL=self.redis.url,
            TRUSTED_HOSTS="127.0.0.1",
            SESSION_COOKIE_SECURE="0",
            # Every client posts from 127.0.0.1: the limit still runs, and never answers 429.
            SUBMISSION_RATE_LIMIT="1000000 per minute",
            LOG_LEVEL="WARNING",
            WEBHOOK_ALLOW_PRIVATE="1",
            FLASK_APP="wsgi",
            PYTHONDONTWRITEBYTECODE="1",
        )
        env.update(extra)
        return env

    def migrate(self, database_url: str) -> None:
        env = self.app_env(database_url)
        self.supervisor.run([sys.executable, "-m", "flask", "db", "upgrade"], env)

    def make_form(self, database_url: str, slug: str, webhook_url: str | None = None) -> None:
        """A published form through the services; with a webhook and an email recipient."""
        from app import create_app
        from app.extensions import db
        from app.services import forms
        from app.services.delivery import notifications
        from app.services.delivery import webhooks
        from config import normalize_database_url

        app = create_app(
            {
                "APP_ENV": "testing",
                "SQLALCHEMY_DATABASE_URI": normalize_database_url(database_url),
                "WEBHOOK_ALLOW_PRIVATE": True,
            }
        )
        with app.app_context():
            form = forms.create_form(None, title=f"Reliability {slug}", slug=slug)
            forms.save_fields(form, [dict(item) for item in FIELDS])
            forms.publish(form, None)
            if webhook_url:
                notifications.update_settings(
                    form,
                    recipients="team@example.com",
                    autoresponder_enabled=False,
                    autoresponder_subject="",
                    autoresponder_message="",
                    autoresponder_include_answers=False,
                )
                webhooks.add_endpoint(form, None, webhook_url, "generic")
            db.engine.dispose()

    def serve(self, name: str, database_url: str, threads: int = 1, **env: str) -> Gunicorn:
        workers = self.settings.workers if threads == 1 else 2
        return Gunicorn(self.supervisor, name, self.app_env(database_url, **env), workers, threads)

    def query(self, database_url: str, sql: str, slug: str) -> list:
        """Read straight from the tables, not through the app: the check depends on the schema
        only."""
        from sqlalchemy import create_engine
        from sqlalchemy import text

        from config import normalize_database_url

        engine = create_engine(normalize_database_url(database_url))
        try:
            with engine.connect() as connection:
                return list(connection.execute(text(sql), {"slug": slug}).scalars())
        finally:
            engine.dispose()

    def stored_tags(self, database_url: str, slug: str) -> Counter[str]:
        rows = self.query(
            database_url,
            "SELECT s.answers FROM submissions AS s JOIN forms AS f ON f.id = s.form_id "
            "WHERE f.slug = :slug",
            slug,
        )
        return Counter(_answers(row).get("name", "") for row in rows)

    # --- counting --------------------------------------------------------------------------

    def count(
        self,
        result: Result,
        load: Load,
        database_url: str,
        outage: tuple[float, float] | None = None,
    ) -> Result:
        stored = self.stored_tags(database_url, load.slug)
        acked = load.acknowledged
        result.acked = len(acked)
        result.stored = sum(stored.values())
        result.lost = len(acked - set(stored))
        result.duplicated = sum(n - 1 for n in stored.values() if n > 1)
        result.throughput = len(acked) / load.seconds
        result.p99 = p99_ms(load.outcomes)
        statuses = Counter(o.status for o in load.outcomes)
        others = {
            str(s or "no-answer"): n for s, n in sorted(statuses.items()) if s not in ACKNOWLEDGED
        }
        if others:
            result.extra["other"] = ",".join(f"{s}:{n}" for s, n in others.items())
        # Stored although the client was not told so: the connection broke after the commit,
        # or the commit's reply was lost in an outage (a 503). A retry would store it twice.
        told = {o.tag: o.status for o in load.outcomes}
        unacked = Counter(str(told.get(tag) or "no-answer") for tag in set(stored) - acked)
        if unacked:
            result.extra["stored_unacked"] = ",".join(f"{s}:{n}" for s, n in unacked.items())
        for outcome in load.outcomes:
            if outcome.status < 500:
                continue
            expected = (
                outcome.status == 503
                and outage is not None
                and outage[0] <= outcome.started + outcome.latency
                and outcome.started <= outage[1]
            )
            if expected and outcome.retry_after:
                result.expected_errors += 1
            else:
                result.server_errors += 1
                if len(result.problems) < 3:
                    result.problems.append(
                        f"{outcome.status} at {outcome.started:.1f}s: {outcome.excerpt[:120]!r}"
                    )
        if result.duplicated:
            result.problems.append(f"{result.duplicated} submissions stored twice")
        if result.lost:
            missing = sorted(acked - set(stored))[:5]
            result.problems.append(f"acknowledged but not stored, e.g. {missing}")
        return result

    def new_load(self, name: str, port: int, seconds: float | None = None, **options) -> Load:
        return Load(
            port=port,
            slug=f"rel-{name}",
            tag_prefix=f"rel-{name}",
            clients=self.settings.clients,
            seconds=seconds or self.settings.seconds,
            **options,
        )


def _answers(value: object) -> dict:
    import json

    return json.loads(value) if isinstance(value, str | bytes) else dict(value or {})


async def _at(began: float, seconds: float) -> None:
    await asyncio.sleep(max(0.0, began + seconds - time.monotonic()))


# --- the scenarios -------------------------------------------------------------------------


def steady_load(suite: Suite) -> Result:
    url = suite.postgres.url
    suite.make_form(url, "rel-a")
    server = suite.serve("gunicorn-a", url)
    try:
        load = suite.new_load("a", server.port)
        asyncio.run(run_load(load))
    finally:
        server.stop()
    return suite.count(Result("a", f"{load.clients} clients for {load.seconds:.0f}s"), load, url)


def killed_workers(suite: Suite) -> Result:
    url = suite.postgres.url
    suite.make_form(url, "rel-b")
    server = suite.serve("gunicorn-b", url)
    load = suite.new_load("b", server.port)
    every = min(suite.settings.kill_every, load.seconds / 3)
    killed: list[int] = []

    async def kill_workers(began: float) -> None:
        moment = every
        while moment < load.seconds:
            await _at(began, moment)
            pids = server.worker_pids()
            if pids:
                pid = random.choice(pids)
                os.kill(pid, signal.SIGKILL)  # a worker of our own gunicorn
                killed.append(pid)
            moment += every

    try:
        asyncio.run(run_load(load, kill_workers))
    finally:
        server.stop()
    result = Result("b", f"a worker SIGKILLed every {every:.0f}s")
    result.extra["killed"] = len(killed)
    return suite.count(result, load, url)


def database_restart(suite: Suite) -> Result:
    url = suite.postgres.url
    suite.make_form(url, "rel-c")
    server = suite.serve("gunicorn-c", url)
    load = suite.new_load("c", server.port)
    window: list[float] = []

    async def restart_postgres(began: float) -> None:
        planned = load.seconds
        await _at(began, planned / 3)
        load.seconds = float("inf")  # until the recovery has been watched, however long it takes
        window.append(time.monotonic() - began)
        # Immediate: a crash, with recovery from the WAL on start; nothing committed may vanish.
        await asyncio.to_thread(suite.postgres.stop, "immediate")
        await _at(began, planned / 2)
        await asyncio.to_thread(suite.postgres.start)
        window.append(time.monotonic() - began + RECOVERY_GRACE)
        load.seconds = max(planned, window[1] + planned / 3)

    try:
        asyncio.run(run_load(load, restart_postgres))
    finally:
        server.stop()
    down = window[1] - RECOVERY_GRACE - window[0]
    result = Result("c", f"PostgreSQL down {down:.0f}s (immediate stop) then started")
    suite.count(result, load, url, outage=(window[0], window[1]))
    after = [o for o in load.outcomes if o.started > window[1]]
    recovered = sum(o.status in ACKNOWLEDGED for o in after)
    result.extra["acked_after"] = recovered
    if not recovered or any(o.status not in ACKNOWLEDGED for o in after):
        result.problems.append("the app did not recover by itself after the restart")
    if not result.expected_errors:
        result.problems.append("no client saw the outage (503 with Retry-After)")
    return result


def redis_outage(suite: Suite) -> Result:
    url = suite.postgres.url
    suite.make_form(url, "rel-d")
    server = suite.serve("gunicorn-d", url)
    load = suite.new_load("d", server.port)

    async def stop_redis(began: float) -> None:
        await _at(began, load.seconds / 3)
        await asyncio.to_thread(suite.redis.stop)
        await _at(began, 2 * load.seconds / 3)
        await asyncio.to_thread(suite.redis.start)

    try:
        asyncio.run(run_load(load, stop_redis))
    finally:
        server.stop()
    result = Result("d", f"Redis down {load.seconds / 3:.0f}s")
    suite.count(result, load, url)
    log = server.log.read_text(errors="replace")
    warnings = log.count("rate limit storage unavailable")
    result.extra["outage_warnings"] = warnings
    result.extra["back_notes"] = log.count("rate limit storage is back")
    if any(o.status not in ACKNOWLEDGED for o in load.outcomes):
        result.problems.append("some submissions were not accepted while Redis was down")
    if not 1 <= warnings <= suite.settings.workers * 2:
        result.problems.append(f"{warnings} outage warnings; want one per worker process")
    return result


def delivery_outage(suite: Suite) -> Result:
    """Mail and webhooks, both down for a while under a paced load, then back."""
    url = suite.postgres.url
    smtp, receiver = SmtpSink(), WebhookReceiver()
    smtp.start()
    receiver.start()
    suite.make_form(url, "rel-e", webhook_url=receiver.url)
    delivery_env = {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp.port),
        "MAIL_TIMEOUT": "5",
        "WEBHOOK_TIMEOUT": "5",
        "WORKER_POLL_SECONDS": "1",
        "WORKER_FIRST_RETRY_SECONDS": "1",
    }
    server = suite.serve("gunicorn-e", url, **delivery_env)
    env = suite.app_env(url, **delivery_env)
    for number in (1, 2):
        suite.supervisor.start(f"worker-{number}", [sys.executable, "-m", "flask", "worker"], env)
    load = suite.new_load("e", server.port, rate=suite.settings.delivery_rate)

    async def stop_receivers(began: float) -> None:
        await _at(began, load.seconds / 4)
        smtp.stop()
        receiver.stop()
        await _at(began, load.seconds / 2)
        smtp.start()
        receiver.start()

    try:
        asyncio.run(run_load(load, stop_receivers))
        server.stop()
        acked = load.acknowledged
        deadline = time.monotonic() + suite.settings.drain_seconds
        while time.monotonic() < deadline and not (
            acked <= set(smtp.tags) and acked <= set(receiver.tags)
        ):
            time.sleep(0.5)
        waited = suite.settings.drain_seconds - (deadline - time.monotonic())
    finally:
        smtp.stop()
        receiver.stop()
    result = Result("e", f"SMTP and webhook receiver down {load.seconds / 4:.0f}s")
    suite.count(result, load, url)
    result.extra["mails"] = f"{len(acked & set(smtp.tags))}/{len(acked)}"
    result.extra["webhooks"] = f"{len(acked & set(receiver.tags))}/{len(acked)}"
    result.extra["resent"] = (len(smtp.tags) - len(set(smtp.tags))) + (
        len(receiver.tags) - len(set(receiver.tags))
    )
    result.extra["drained_in"] = f"{waited:.0f}s"
    # Proof that the outage was met: tries that failed, and were retried.
    [failed_tries] = suite.query(
        url,
        "SELECT count(*) FROM delivery_attempts AS a JOIN deliveries AS d ON d.id = a.delivery_id"
        " JOIN forms AS f ON f.id = d.form_id WHERE f.slug = :slug AND NOT a.succeeded",
        "rel-e",
    )
    result.extra["failed_tries"] = failed_tries
    if not acked <= set(smtp.tags) or not acked <= set(receiver.tags):
        result.problems.append("some deliveries never arrived")
    return result


def sqlite_writers(suite: Suite) -> Result:
    url = f"sqlite:///{suite.workdir / 'reliability.sqlite3'}"
    suite.migrate(url)
    suite.make_form(url, "rel-f")
    # 2 processes x 25 threads: 50 requests writing to the file at once.
    server = suite.serve("gunicorn-f", url, threads=max(1, suite.settings.clients // 2))
    try:
        load = suite.new_load("f", server.port)
        asyncio.run(run_load(load))
    finally:
        server.stop()
    result = Result("f", f"SQLite, {load.clients} concurrent writers")
    suite.count(result, load, url)
    locked = sum("locked" in o.excerpt for o in load.outcomes)
    locked += server.log.read_text(errors="replace").count("database is locked")
    result.extra["locked"] = locked
    if locked:
        result.problems.append(f'"database is locked" {locked} times')
    return result


SCENARIOS = {
    "a": steady_load,
    "b": killed_workers,
    "c": database_restart,
    "d": redis_outage,
    "e": delivery_outage,
    "f": sqlite_writers,
}
