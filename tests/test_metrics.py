"""/metrics: off (404) unless METRICS_TOKEN is set, then only for that Bearer token, in the
Prometheus text format; its figures move with submissions, deliveries and requests, and under
several processes (multiprocess mode) one scrape adds up what each counted."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from app.caching import clear_process_caches
from app.extensions import db
from config import normalize_database_url
from tests.database_helpers import empty_tables
from tests.database_helpers import prepare_schema
from tests.delivery_helpers import CONTACT_FIELDS
from tests.delivery_helpers import Reply
from tests.delivery_helpers import add_webhook
from tests.delivery_helpers import free_port
from tests.delivery_helpers import receiver_fixture  # noqa: F401
from tests.delivery_helpers import run_worker
from tests.delivery_helpers import submit_answers
from tests.form_helpers import make_form
from tests.process_helpers import fetch
from tests.process_helpers import loopback_gunicorn
from tests.process_helpers import production_settings
from tests.process_helpers import program_environment
from tests.process_helpers import require_postgresql_and_redis
from tests.process_helpers import run_program
from tests.process_helpers import start_program
from tests.process_helpers import stop_program
from tests.process_helpers import wait_until
from tests.process_helpers import wait_until_healthy

TOKEN = "metrics-token-for-the-tests-0123456789"
ROOT = Path(__file__).resolve().parent.parent
ANSWERS = {"name": "Ann", "email": "ann@example.com", "message": "Hi", "size": "M"}


@pytest.fixture(name="metrics_app")
def metrics_app_fixture(database_url):
    """The test app built with METRICS_TOKEN set, as a deploy would set it."""
    app = create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": normalize_database_url(database_url),
            "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}:",
            "METRICS_TOKEN": TOKEN,
            "WEBHOOK_ALLOW_PRIVATE": True,
            "SUBMISSION_RATE_LIMIT": "1000 per minute",
        }
    )
    with app.app_context():
        prepare_schema(database_url)
    clear_process_caches()
    yield app
    clear_process_caches()
    with app.app_context():
        empty_tables()
        db.engine.dispose()


def scrape(app) -> dict[tuple[str, tuple], float]:
    """Every sample of an authorised scrape, by (name, sorted labels)."""
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_off_without_a_token(client):
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404
    assert "formyard_" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "]
)
def test_metrics_need_the_right_bearer_token(metrics_app, header):
    headers = {"Authorization": header} if header else {}
    response = metrics_app.test_client().get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "formyard_" not in response.get_data(as_text=True)


def test_submissions_requests_and_the_outbox_move_the_figures(metrics_app, receiver):
    form = make_form(metrics_app, CONTACT_FIELDS)
    add_webhook(metrics_app, form.id, receiver.url)
    before = scrape(metrics_app)
    assert value(before, "formyard_outbox_depth") == 0
    assert value(before, "formyard_worker_last_heartbeat_timestamp_seconds") == 0

    client = metrics_app.test_client()
    assert client.get(f"/f/{form.slug}").status_code == 200
    client.get("/no/such/page/4711")  # no route: sign-in redirect or 404
    submit_answers(metrics_app, form.id, ANSWERS)
    assert client.post(f"/f/{form.slug}", data={"name": ""}).status_code == 422
    submit_answers(metrics_app, form.id, {**ANSWERS, "_gotcha": "bot"})

    queued = scrape(metrics_app)
    assert value(queued, "formyard_submissions_total", outcome="accepted") == 1
    assert value(queued, "formyard_submissions_total", outcome="rejected") == 1
    assert value(queued, "formyard_submissions_total", outcome="spam") == 1
    assert value(queued, "formyard_outbox_depth") == 1
    assert value(queued, "formyard_outbox_oldest_age_seconds") >= 0
    latency = "formyard_request_duration_seconds_count"
    assert value(queued, latency, endpoint="public.show_form", method="GET") == 1
    assert value(queued, latency, endpoint="public.submit_form", method="POST") == 1
    assert value(queued, latency, endpoint="unmatched", method="GET") == 1
    assert not any("4711" in str(labels) for _name, labels in queued)  # never the raw path

    receiver.script(Reply(500))
    run_worker(metrics_app)
    failed = scrape(metrics_app)
    assert value(failed, "formyard_delivery_failures_total", kind="webhook") == 1
    assert value(failed, "formyard_outbox_depth") == 1  # waiting for its retry
    assert value(failed, "formyard_worker_last_heartbeat_timestamp_seconds") > 0
    assert value(failed, "formyard_deliveries_failed", kind="webhook") == 0  # not given up


# A process of its own: the app with metrics on, sharing PROMETHEUS_MULTIPROC_DIR.
PROCESS = textwrap.dedent(
    """
    import sys
    from app import create_app
    from app.extensions import db
    from app.ops.counters import count

    app = create_app({
        "APP_ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": sys.argv[1],
        "METRICS_TOKEN": "t",
    })
    with app.app_context():
        db.create_all()
    submissions = int(sys.argv[2])
    if submissions < 0:
        response = app.test_client().get("/metrics", headers={"Authorization": "Bearer t"})
        with open(sys.argv[3], "w") as scraped:  # stdout has the log lines
            scraped.write(response.get_data(as_text=True))
    else:
        for _ in range(submissions):
            count("submissions", "accepted", app)
        app.test_client().get("/healthz")
    """
)


def run_process(directory: Path, database: str, submissions: int) -> str:
    """Count ``submissions`` in a process of its own; with -1, scrape and return the text."""
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    scraped = directory.parent / "scraped.txt"
    subprocess.run(
        [sys.executable, "-c", PROCESS, database, str(submissions), str(scraped)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return scraped.read_text() if submissions < 0 else ""


def test_one_scrape_adds_up_what_several_processes_counted(tmp_path):
    directory = tmp_path / "metrics"
    database = f"sqlite:///{tmp_path / 'multi.sqlite3'}"
    run_process(directory, database, 2)
    run_process(directory, database, 3)
    text = run_process(directory, database, -1)
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert value(samples, "formyard_submissions_total", outcome="accepted") == 5
    healthz = value(
        samples, "formyard_request_duration_seconds_count", endpoint="health.healthz", method="GET"
    )
    assert healthz == 2
    assert value(samples, "formyard_outbox_depth") == 0


def healthz_batch(url: str) -> bool:
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda _: fetch("GET", f"{url}/healthz"), range(8)))
    assert {reply.status for reply in replies} == {200}
    return True


def test_gunicorn_with_two_workers_reports_every_request_once(tmp_path):
    """The Procfile's web line (the repo's gunicorn.conf.py) with two workers: each serves some
    requests, and any one's scrape counts them all."""
    require_postgresql_and_redis()
    directory = tmp_path / "metrics"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = {
        **production_settings(f"sqlite:///{tmp_path / 'web.sqlite3'}", url),
        "WEB_CONCURRENCY": "2",
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
    }
    env = {**program_environment(settings), **loopback_gunicorn(port)}
    run_program(["flask", "db", "upgrade"], env)
    web = start_program(["gunicorn", "wsgi:app"], env, tmp_path / "gunicorn.log")
    try:
        wait_until_healthy(url, web)
        # Batches of requests at once, until both (sync) workers have taken some: each writes
        # its counts to a file of its own, by process id.
        wait_until(
            lambda: healthz_batch(url) and len(list(directory.glob("histogram_*.db"))) >= 2,
            30,
            "requests served by the second worker",
            web.output,
        )
        reply = fetch("GET", f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        stop_program(web)
    assert reply.status == 200, web.output()
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }
    healthz = "formyard_request_duration_seconds_count"
    assert value(samples, healthz, endpoint="health.healthz", method="GET") >= 9
    assert value(samples, healthz, endpoint="health.healthz", method="GET") == sum(
        1 for line in web.output().splitlines() if "GET /healthz 200" in line
    )
