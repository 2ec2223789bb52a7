"""What clients see while a server the app needs is down: the database answers 503 with
Retry-After, a rate-limit storage outage lets submissions through and is logged once, and
delivery retries can start sooner than the default 30 s."""

import logging
from datetime import timedelta

import pytest
from limits import parse
from limits.strategies import FixedWindowRateLimiter

from app import create_app
from app.caching import clear_process_caches
from app.extensions import limiter
from app.services.accounts import throttle
from tests.delivery_helpers import CONTACT_FIELDS as DELIVERY_CONTACT_FIELDS
from tests.delivery_helpers import Clock
from tests.delivery_helpers import Reply
from tests.delivery_helpers import add_webhook
from tests.delivery_helpers import all_deliveries
from tests.delivery_helpers import mail_app_fixture  # noqa: F401
from tests.delivery_helpers import receiver_fixture  # noqa: F401
from tests.delivery_helpers import run_worker
from tests.delivery_helpers import smtp_server_fixture  # noqa: F401
from tests.delivery_helpers import submit_answers
from tests.form_helpers import make_form
from tests.public_helpers import CONTACT_ANSWERS
from tests.public_helpers import CONTACT_FIELDS

# Nothing listens on port 9 (discard) of loopback: connecting fails at once, as while a
# server restarts.
DOWN_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:9/formyard"
DOWN_REDIS = "redis://127.0.0.1:9/0"


@pytest.fixture
def app_without_database():
    # Forms another test cached in this process (by slug, such as "contact") would otherwise
    # answer without the database.
    clear_process_caches()
    return create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": DOWN_DATABASE})


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/f/contact", {}),
        ("POST", "/f/contact", {}),
        ("GET", "/login", {}),
    ],
)
def test_pages_answer_503_with_retry_after_while_the_database_is_down(
    app_without_database, method, path, headers
):
    response = app_without_database.test_client().open(path, method=method, headers=headers)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.mimetype == "text/html"
    assert "Please try again shortly" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("POST", "/f/contact", {"Accept": "application/json"}),
        ("POST", "/f/contact", {"X-Requested-With": "XMLHttpRequest"}),
    ],
)
def test_json_clients_get_a_json_503_while_the_database_is_down(
    app_without_database, method, path, headers
):
    # Not /api/: Flask-Limiter takes any error in its check, a token lookup's included, for
    # its storage being down, and switches the shared limiter to memory for later tests.
    response = app_without_database.test_client().open(path, method=method, headers=headers)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json()["error"]["code"] == "unavailable"


@pytest.fixture
def fresh_outage(monkeypatch):
    outage = throttle.StorageOutage()
    monkeypatch.setattr(throttle, "submission_storage", outage)
    return outage


def test_submissions_are_accepted_while_the_rate_limit_storage_is_down(app, fresh_outage, caplog):
    slug = make_form(app, CONTACT_FIELDS, slug="contact").slug
    down = create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "RATELIMIT_STORAGE_URI": DOWN_REDIS,
            "SUBMISSION_RATE_LIMIT": "1 per minute",
        }
    )
    client = down.test_client()
    with caplog.at_level(logging.WARNING, logger="app.services.accounts.throttle"):
        statuses = [client.post(f"/f/{slug}", data=CONTACT_ANSWERS).status_code for _ in range(3)]
    assert statuses == [303, 303, 303]  # over the limit, yet not limited: the storage is down
    warnings = [r.message for r in caplog.records if r.name == "app.services.accounts.throttle"]
    assert warnings == [
        "rate limit storage unavailable; submissions are not limited until it is back"
    ]


def test_submissions_are_counted_in_the_shared_storage_after_flask_limiter_fell_back(
    app, monkeypatch
):
    """Flask-Limiter switches to per-process memory when one of its own checks fails, and
    back only on a later limited request; form posts must keep counting where every process
    sees them (Redis in production) all the while."""
    slug = make_form(app, CONTACT_FIELDS, slug="contact").slug
    app.config["SUBMISSION_RATE_LIMIT"] = "2 per minute"
    monkeypatch.setattr(limiter, "_storage_dead", True)
    client = app.test_client()
    statuses = [client.post(f"/f/{slug}", data=CONTACT_ANSWERS).status_code for _ in range(3)]
    assert statuses == [303, 303, 429]
    key = f"{app.config.get('RATELIMIT_KEY_PREFIX', '')}submissions/{slug}/127.0.0.1"
    shared = FixedWindowRateLimiter(limiter.storage)
    assert shared.get_window_stats(parse("2 per minute"), key).remaining == 0


def test_the_end_of_a_storage_outage_is_logged_once(fresh_outage, caplog):
    with caplog.at_level(logging.WARNING, logger="app.services.accounts.throttle"):
        fresh_outage.succeeded()
        fresh_outage.failed()
        fresh_outage.failed()
        fresh_outage.succeeded()
        fresh_outage.succeeded()
    assert [r.message for r in caplog.records] == [
        "rate limit storage unavailable; submissions are not limited until it is back",
        "rate limit storage is back; submissions are limited again",
    ]


def test_the_first_retry_comes_after_worker_first_retry_seconds(mail_app, receiver):
    mail_app.config["WORKER_FIRST_RETRY_SECONDS"] = 2
    receiver.script(Reply(503, b"restarting"))
    form_id = make_form(mail_app, DELIVERY_CONTACT_FIELDS).id
    add_webhook(mail_app, form_id, receiver.url)
    submit_answers(mail_app, form_id, {"name": "Ann", "email": "ann@example.com"})
    clock = Clock()

    assert run_worker(mail_app, clock) == 1
    [delivery] = all_deliveries(mail_app, kind="webhook")
    wait = delivery.next_attempt_at - clock.now
    assert timedelta(seconds=2) <= wait <= timedelta(seconds=2.2)


@pytest.mark.parametrize("value", ["0", "-5"])
def test_worker_first_retry_seconds_must_be_positive(monkeypatch, value):
    monkeypatch.setenv("WORKER_FIRST_RETRY_SECONDS", value)
    with pytest.raises(Exception, match="WORKER_FIRST_RETRY_SECONDS"):
        create_app({"APP_ENV": "testing"})


# --- connections the database dropped -------------------------------------------------------


def _backend_pid() -> int:
    from sqlalchemy import text

    from app.extensions import db

    return db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _drop_the_pooled_connection(app) -> int:
    """End, from the server's side, the connection the app's pool holds; its backend pid."""
    from sqlalchemy import create_engine
    from sqlalchemy import text

    with app.app_context():
        dropped = _backend_pid()
    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with other.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
    other.dispose()
    return dropped


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    app, monkeypatch, database_url
):
    from app import database

    dropped = _drop_the_pooled_connection(app)
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)  # everything counts as idle
    response = app.test_client().get("/f/no-such-form")
    assert response.status_code == 404  # answered from the database
    with app.app_context():
        assert _backend_pid() != dropped


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_connection_used_a_moment_ago_is_not_pinged_and_fails_one_request_at_most(
    app, monkeypatch, database_url
):
    from app import database

    _drop_the_pooled_connection(app)
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 3600.0)  # nothing counts as idle
    client = app.test_client()
    failed = client.get("/f/no-such-form")
    assert failed.status_code == 503  # the dropped connection was used without a ping
    assert failed.headers["Retry-After"] == "5"
    assert client.get("/f/no-such-form").status_code == 404  # the pool replaced it
