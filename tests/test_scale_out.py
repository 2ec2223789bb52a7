"""Scale-out: two gunicorn instances on loopback behind Debian's nginx as a round-robin load
balancer, sharing PostgreSQL and Redis, with production settings.

nginx names the backend that answered in an ``X-Upstream`` header, so each test can show that
both took part. Forms and users are made in this process through the services, on the same
database; everything the tests check goes over HTTP or is read back from that database.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import Delivery
from app.models import DeliveryAttempt
from app.models import DeliveryStatus
from app.models import Role
from app.models import Submission
from config import normalize_database_url
from tests.auth_helpers import CSRF_RE
from tests.auth_helpers import OWNER_EMAIL
from tests.auth_helpers import PASSWORD
from tests.auth_helpers import make_user
from tests.delivery_helpers import CONTACT_FIELDS
from tests.delivery_helpers import Reply
from tests.delivery_helpers import add_webhook
from tests.delivery_helpers import free_port
from tests.delivery_helpers import receiver_fixture  # noqa: F401
from tests.form_helpers import make_form
from tests.process_helpers import VENV_BIN
from tests.process_helpers import Browser
from tests.process_helpers import Program
from tests.process_helpers import fetch
from tests.process_helpers import loopback_gunicorn
from tests.process_helpers import production_settings
from tests.process_helpers import program_environment
from tests.process_helpers import require_postgresql_and_redis
from tests.process_helpers import require_program
from tests.process_helpers import run_program
from tests.process_helpers import scratch_database
from tests.process_helpers import start_program
from tests.process_helpers import stop_program
from tests.process_helpers import wait_until
from tests.process_helpers import wait_until_healthy

NGINX = Path("/usr/sbin/nginx")
SUBMISSION_LIMIT = 5
ANSWERS = {"name": "Ada Lovelace", "email": "ada@example.com", "message": "Hello"}
SENT_RE = re.compile(r"webhook submission\.created (\S+) attempt 1: sent")
NGINX_CONF = """\
daemon off;
worker_processes 1;  # one balancer, so round robin alternates strictly
{user}
pid {directory}/nginx.pid;
error_log {directory}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log {directory}/nginx-access.log;
  client_body_temp_path {directory}/client_body;
  proxy_temp_path {directory}/proxy;
  fastcgi_temp_path {directory}/fastcgi;
  uwsgi_temp_path {directory}/uwsgi;
  scgi_temp_path {directory}/scgi;
  upstream formyard {{
    {servers}
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://formyard;
      proxy_next_upstream off;  # a failing backend shows as a 502, not as the other's answer
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      add_header X-Upstream $upstream_addr always;
    }}
  }}
}}
"""


@dataclass
class Cluster:
    url: str  # nginx
    backends: list[str]  # each gunicorn, for calls that bypass nginx
    env: dict[str, str]
    app: Flask  # this process's view of the shared database
    directory: Path

    @property
    def backend_addresses(self) -> set[str]:
        return {backend.removeprefix("http://") for backend in self.backends}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    require_postgresql_and_redis()
    nginx = require_program(NGINX)
    directory = tmp_path_factory.mktemp("scale_out")
    with scratch_database("scale_out") as database_url:
        balancer_port, *backend_ports = distinct_free_ports(3)
        balancer = f"http://127.0.0.1:{balancer_port}"
        settings = production_settings(database_url, balancer)
        settings.update(
            TRUSTED_PROXY_COUNT="1",
            SESSION_COOKIE_SECURE="0",  # plain HTTP on loopback
            SUBMISSION_RATE_LIMIT=f"{SUBMISSION_LIMIT} per minute",
        )
        env = program_environment(settings)
        run_program([str(VENV_BIN / "flask"), "db", "upgrade"], env)
        programs: list[Program] = []
        app = create_app(
            {
                "APP_ENV": "testing",
                "SQLALCHEMY_DATABASE_URI": normalize_database_url(database_url),
                "WEBHOOK_ALLOW_PRIVATE": True,
            }
        )
        try:
            for port in backend_ports:
                gunicorn_env = {**env, **loopback_gunicorn(port)}
                log_path = directory / f"gunicorn-{port}.log"
                programs.append(start_program(["gunicorn", "wsgi:app"], gunicorn_env, log_path))
            conf = write_nginx_conf(directory, balancer_port, backend_ports)
            argv = [
                nginx,
                "-p",
                str(directory),
                "-c",
                str(conf),
                "-e",
                str(directory / "nginx-error.log"),
            ]
            programs.append(start_program(argv, env, directory / "nginx.log"))
            backends = [f"http://127.0.0.1:{port}" for port in backend_ports]
            for url in [*backends, balancer]:
                wait_until_healthy(url, *programs)
            make_user(app, OWNER_EMAIL, Role.OWNER)
            yield Cluster(balancer, backends, env, app, directory)
        finally:
            for program in reversed(programs):
                stop_program(program)
            with app.app_context():
                db.engine.dispose()


def distinct_free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


def write_nginx_conf(directory: Path, port: int, backend_ports: list[int]) -> Path:
    servers = "\n    ".join(f"server 127.0.0.1:{backend};" for backend in backend_ports)
    # As root, nginx's workers would otherwise run as nobody and could not use this folder.
    user = "user root;" if os.geteuid() == 0 else ""
    path = directory / "nginx.conf"
    path.write_text(NGINX_CONF.format(directory=directory, port=port, servers=servers, user=user))
    return path


def submit(cluster: Cluster, slug: str, answers: dict[str, str] | None = None):
    return fetch("POST", f"{cluster.url}/f/{slug}", form=answers or ANSWERS)


def test_a_session_made_through_one_backend_works_through_the_other(cluster):
    browser = Browser()
    login_page = browser.request("GET", f"{cluster.url}/login")
    token = CSRF_RE.search(login_page.text).group(1)
    credentials = {"csrf_token": token, "email": OWNER_EMAIL, "password": PASSWORD}
    signed_in = browser.request("POST", f"{cluster.url}/login", form=credentials)

    assert signed_in.status == 303, signed_in.text
    assert signed_in.headers["Location"] == "/"
    # The CSRF token came from one backend and the other accepted it.
    upstreams = {login_page.headers["X-Upstream"], signed_in.headers["X-Upstream"]}
    assert upstreams == cluster.backend_addresses
    for url in [cluster.url, cluster.url, *cluster.backends]:
        dashboard = browser.request("GET", f"{url}/")
        assert dashboard.status == 200, f"{url}: {dashboard.status}"
        assert "<summary>Owner</summary>" in dashboard.text


def test_the_submission_rate_limit_is_shared(cluster):
    make_form(cluster.app, CONTACT_FIELDS, slug="limited")

    replies = [submit(cluster, "limited") for _ in range(SUBMISSION_LIMIT + 1)]

    assert [reply.status for reply in replies] == [303] * SUBMISSION_LIMIT + [429]
    assert {reply.headers["X-Upstream"] for reply in replies} == cluster.backend_addresses
    for backend in cluster.backends:
        assert fetch("POST", f"{backend}/f/limited", form=ANSWERS).status == 429
    # nginx appends the address it saw, and only that one is trusted: a forged one does not help.
    forged = {"X-Forwarded-For": "203.0.113.9"}
    assert fetch("POST", f"{cluster.url}/f/limited", form=ANSWERS, headers=forged).status == 429


def test_submissions_through_both_backends_land(cluster):
    form_id = make_form(cluster.app, CONTACT_FIELDS, slug="landing").id
    names = [f"Respondent {number}" for number in range(SUBMISSION_LIMIT)]

    replies = [submit(cluster, "landing", {**ANSWERS, "name": name}) for name in names]

    assert [reply.status for reply in replies] == [303] * len(names)
    assert {reply.headers["X-Upstream"] for reply in replies} == cluster.backend_addresses
    with cluster.app.app_context():
        query = select(Submission.answers).where(Submission.form_id == form_id)
        stored = sorted(answers["name"] for answers in db.session.scalars(query))
    assert stored == names


def test_two_workers_deliver_every_webhook_once(cluster, receiver, tmp_path):
    slugs = [f"hooked-{number}" for number in range(4)]
    # Posts sent at once and up to the rate limit would score as spam, which is not sent on;
    # this test is about delivery, so every post counts as a person's.
    form_ids = [
        make_form(cluster.app, CONTACT_FIELDS, slug=slug, spam_threshold=1000).id for slug in slugs
    ]
    for form_id in form_ids:
        add_webhook(cluster.app, form_id, receiver.url)
    # A receiver slow enough that one worker cannot drain the outbox before the other wakes.
    receiver.default = Reply(delay=0.2)
    workers = [
        start_program(["flask", "worker"], cluster.env, tmp_path / f"worker-{number}.log")
        for number in range(2)
    ]
    try:
        wait_until(lambda: all("worker started" in w.output() for w in workers), 20, "workers")
        for slug in slugs:
            for _ in range(SUBMISSION_LIMIT):
                assert submit(cluster, slug).status == 303
        expected = len(slugs) * SUBMISSION_LIMIT
        wait_until(
            lambda: len(receiver.requests) >= expected,
            30,
            f"{expected} webhooks",
            lambda: "\n".join(worker.output() for worker in workers),
        )
        wait_until(lambda: all_settled(cluster.app), 10, "every delivery to be settled")
    finally:
        for worker in workers:
            stop_program(worker)

    delivery_ids = receiver.delivery_ids()
    assert len(delivery_ids) == expected
    assert len(set(delivery_ids)) == expected
    assert sorted(request.json()["submission"]["id"] for request in receiver.requests) == (
        stored_submission_ids(cluster.app, form_ids)
    )
    assert receiver.overlaps == []
    first, second = [set(SENT_RE.findall(worker.output())) for worker in workers]
    assert first and second, f"one worker sent everything: {len(first)} and {len(second)}"
    assert first.isdisjoint(second)
    assert first | second == set(delivery_ids)
    with cluster.app.app_context():
        assert db.session.scalar(select(func.count(DeliveryAttempt.id))) == expected


def all_settled(app: Flask) -> bool:
    with app.app_context():
        statuses = db.session.scalars(select(Delivery.status)).all()
    return all(status == DeliveryStatus.DELIVERED for status in statuses)


def stored_submission_ids(app: Flask, form_ids: list[int]) -> list[int]:
    with app.app_context():
        query = select(Submission.id).where(Submission.form_id.in_(form_ids))
        return sorted(db.session.scalars(query))
