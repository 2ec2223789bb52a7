"""Sending email: SMTP settings with Flask-Mail's names, the SMTP server's refusals, and the
development fallback that writes messages to a folder."""

import email
from datetime import timedelta
from email.policy import default as default_policy

import pytest

from app import create_app
from app.models import DeliveryStatus
from config import ConfigurationError
from tests.delivery_helpers import CONTACT_FIELDS
from tests.delivery_helpers import SMTP_PASSWORD
from tests.delivery_helpers import SMTP_USER
from tests.delivery_helpers import Clock
from tests.delivery_helpers import all_deliveries
from tests.delivery_helpers import attempts_of
from tests.delivery_helpers import free_port
from tests.delivery_helpers import mail_app_fixture  # noqa: F401
from tests.delivery_helpers import run_worker
from tests.delivery_helpers import set_recipients
from tests.delivery_helpers import smtp_server_fixture  # noqa: F401
from tests.delivery_helpers import submit_answers
from tests.form_helpers import make_form


def notify(app, recipients: str = "team@example.org") -> None:
    form_id = make_form(app, CONTACT_FIELDS).id
    set_recipients(app, form_id, recipients)
    submit_answers(app, form_id, {"name": "Ann", "email": "ann@example.com"})


def test_smtp_login_with_username_and_password(mail_app, smtp_server):
    mail_app.config.update(MAIL_USERNAME=SMTP_USER, MAIL_PASSWORD=SMTP_PASSWORD)
    notify(mail_app)
    run_worker(mail_app)
    assert smtp_server.logins == [SMTP_USER]
    assert smtp_server.one_to("team@example.org").mail_from == "forms@example.org"


def test_a_refused_mailbox_is_not_retried(mail_app, smtp_server):
    smtp_server.handler.refuse["gone@example.org"] = "550 5.1.1 No such user"
    notify(mail_app, "gone@example.org, team@example.org")
    run_worker(mail_app)
    gone, team = all_deliveries(mail_app)
    assert (gone.status, gone.attempts) == (DeliveryStatus.FAILED, 1)
    assert gone.last_error == "SMTP 550: 5.1.1 No such user"
    assert team.status == DeliveryStatus.DELIVERED


def test_a_temporary_refusal_is_retried_later(mail_app, smtp_server):
    smtp_server.handler.refuse["busy@example.org"] = "451 4.3.0 Try again later"
    notify(mail_app, "busy@example.org")
    clock = Clock()
    run_worker(mail_app, clock)
    [delivery] = all_deliveries(mail_app)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_error == "SMTP 451: 4.3.0 Try again later"

    del smtp_server.handler.refuse["busy@example.org"]
    clock.advance(timedelta(minutes=1))
    run_worker(mail_app, clock)
    assert all_deliveries(mail_app)[0].status == DeliveryStatus.DELIVERED
    assert len(smtp_server.to("busy@example.org")) == 1


def test_an_smtp_server_that_is_down_is_retried(mail_app):
    mail_app.config.update(MAIL_PORT=free_port())  # nothing listens there
    notify(mail_app)
    run_worker(mail_app)
    [delivery] = all_deliveries(mail_app)
    [attempt] = attempts_of(mail_app, delivery.id)
    assert delivery.status == DeliveryStatus.PENDING
    assert attempt.error.startswith("SMTP: ConnectionRefusedError")


def test_without_mail_server_development_writes_eml_files(mail_app, tmp_path, caplog):
    mail_app.config.update(MAIL_SERVER="", MAIL_FILE_DIR=str(tmp_path / "mail"))
    notify(mail_app)
    with caplog.at_level("INFO", logger="formyard.mail"):
        run_worker(mail_app)
    [path] = (tmp_path / "mail").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
    assert message["To"] == "team@example.org"
    assert message["Subject"] == "New response to Contact us"
    assert "Ann" in message.get_body(("plain",)).get_content()
    assert f"written to {path}" in caplog.text
    assert all_deliveries(mail_app)[0].status == DeliveryStatus.DELIVERED


def test_without_mail_server_production_keeps_the_email_waiting(mail_app, tmp_path):
    folder = tmp_path / "mail"
    mail_app.config.update(MAIL_SERVER="", APP_ENV="production", MAIL_FILE_DIR=str(folder))
    notify(mail_app)
    run_worker(mail_app)
    [delivery] = all_deliveries(mail_app)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_error == "MAIL_SERVER is not set, so no email can be sent."
    assert not folder.exists()


def test_mail_settings_are_read_with_flask_mails_names(monkeypatch, tmp_path):
    for name, value in {
        "MAIL_SERVER": "smtp.example.org",
        "MAIL_PORT": "587",
        "MAIL_USE_TLS": "1",
        "MAIL_USERNAME": "apikey",
        "MAIL_PASSWORD": "s3cret",
        "MAIL_DEFAULT_SENDER": "Forms <forms@example.org>",
    }.items():
        monkeypatch.setenv(name, value)
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x"})
    assert (app.config["MAIL_SERVER"], app.config["MAIL_PORT"]) == ("smtp.example.org", 587)
    assert (app.config["MAIL_USE_TLS"], app.config["MAIL_USE_SSL"]) == (True, False)
    assert (app.config["MAIL_USERNAME"], app.config["MAIL_PASSWORD"]) == ("apikey", "s3cret")
    assert app.config["MAIL_DEFAULT_SENDER"] == "Forms <forms@example.org>"


def test_the_default_sender_uses_base_urls_host(monkeypatch, tmp_path):
    monkeypatch.delenv("MAIL_DEFAULT_SENDER", raising=False)
    monkeypatch.setenv("BASE_URL", "https://forms.example.org")
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x"})
    assert app.config["MAIL_DEFAULT_SENDER"] == "Formyard <formyard@forms.example.org>"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"MAIL_USE_TLS": True, "MAIL_USE_SSL": True}, "exclude each other"),
        ({"WORKER_LEASE_SECONDS": 10}, "WORKER_LEASE_SECONDS must be at least 40"),
    ],
)
def test_unworkable_delivery_settings_are_refused(tmp_path, settings, message):
    with pytest.raises(ConfigurationError, match=message):
        create_app(
            {"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x", **settings}
        )


@pytest.mark.parametrize(
    ("app_env", "allowed"), [("development", True), ("testing", False), ("production", False)]
)
def test_private_webhook_addresses_are_allowed_only_in_development(
    monkeypatch, tmp_path, app_env, allowed
):
    monkeypatch.delenv("WEBHOOK_ALLOW_PRIVATE", raising=False)
    monkeypatch.setenv(
        "SECRET_KEY", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    )
    app = create_app({"APP_ENV": app_env, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x"})
    assert app.config["WEBHOOK_ALLOW_PRIVATE"] is allowed
