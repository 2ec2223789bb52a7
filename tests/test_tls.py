"""TLS as deployed: webhooks to https receivers and email over STARTTLS and implicit TLS, each
against a real loopback server whose certificate comes from a CA made for the test and trusted
through WEBHOOK_CA_FILE or MAIL_CA_FILE. A certificate the app cannot trust is refused, and the
delivery's attempt says why."""

from __future__ import annotations

import logging
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
import trustme

from app.models import DeliveryStatus
from app.services.delivery import netcheck
from tests.delivery_helpers import CONTACT_FIELDS
from tests.delivery_helpers import SMTP_PASSWORD
from tests.delivery_helpers import SmtpHandler
from tests.delivery_helpers import TlsReceiver
from tests.delivery_helpers import add_webhook
from tests.delivery_helpers import all_deliveries
from tests.delivery_helpers import attempts_of
from tests.delivery_helpers import mail_app_fixture  # noqa: F401
from tests.delivery_helpers import run_worker
from tests.delivery_helpers import set_recipients
from tests.delivery_helpers import smtp_server_fixture  # noqa: F401
from tests.delivery_helpers import start_tls_smtp
from tests.delivery_helpers import submit_answers
from tests.form_helpers import make_form

HOOK_HOST = "hooks.example.test"
ANSWERS = {"name": "Ann", "email": "ann@example.com", "message": "Over TLS", "size": "M"}
LAST_YEAR = datetime.now(UTC) - timedelta(days=365)


@pytest.fixture(name="test_ca")
def test_ca_fixture():
    return trustme.CA()


@pytest.fixture(name="ca_file")
def ca_file_fixture(test_ca, tmp_path):
    path = tmp_path / "test-ca.pem"
    test_ca.cert_pem.write_to_path(str(path))
    return str(path)


def server_context(test_ca: trustme.CA, *names: str, **cert_options):
    context = trustme.ssl.create_default_context(trustme.ssl.Purpose.CLIENT_AUTH)
    test_ca.issue_cert(*names, **cert_options).configure_cert(context)
    return context


BAD_CERTIFICATES = {
    # name: (how the server's certificate is made, what the attempt's error must say)
    "from an unknown CA": (
        lambda ca, host: server_context(trustme.CA(), host),
        "unable to get local issuer certificate",
    ),
    "for another host": (
        lambda ca, host: server_context(ca, "other.example.test"),
        "mismatch, certificate is not valid for",
    ),
    "expired": (
        lambda ca, host: server_context(
            ca, host, not_before=LAST_YEAR, not_after=LAST_YEAR + timedelta(days=30)
        ),
        "certificate has expired",
    ),
}


# --- webhooks ----------------------------------------------------------------------------------


@pytest.fixture(name="tls_app")
def tls_app_fixture(mail_app, ca_file, monkeypatch):
    """The app trusting the test CA for webhooks; HOOK_HOST resolves to loopback."""
    mail_app.config["WEBHOOK_CA_FILE"] = ca_file
    monkeypatch.setattr(netcheck, "system_resolver", lambda host, port: ["127.0.0.1"])
    return mail_app


def https_receiver(context):
    return TlsReceiver(context, HOOK_HOST).start()


def send_one_webhook(app, receiver) -> int:
    form_id = make_form(app, CONTACT_FIELDS).id
    add_webhook(app, form_id, receiver.url)
    submit_answers(app, form_id, ANSWERS)
    run_worker(app)
    [delivery] = all_deliveries(app, form_id=form_id)
    return delivery.id


def test_a_webhook_reaches_an_https_receiver_with_its_certificate_checked(tls_app, test_ca):
    receiver = https_receiver(server_context(test_ca, HOOK_HOST))
    try:
        delivery_id = send_one_webhook(tls_app, receiver)
    finally:
        receiver.stop()
    [request] = receiver.requests
    assert request.json()["answers"]["message"] == "Over TLS"
    assert request.headers["Host"] == f"{HOOK_HOST}:{receiver.server.server_address[1]}"
    # Connected to the pinned 127.0.0.1, yet the name sent (SNI) and checked is the URL's host.
    assert receiver.server_names == [HOOK_HOST]
    [delivery] = all_deliveries(tls_app, id=delivery_id)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert [attempt.status_code for attempt in attempts_of(tls_app, delivery_id)] == [200]


@pytest.mark.parametrize("case", BAD_CERTIFICATES)
def test_a_webhook_receiver_with_a_bad_certificate_is_refused(tls_app, test_ca, case, caplog):
    make_context, reason = BAD_CERTIFICATES[case]
    receiver = https_receiver(make_context(test_ca, HOOK_HOST))
    try:
        with caplog.at_level(logging.WARNING, logger="formyard.webhooks"):
            delivery_id = send_one_webhook(tls_app, receiver)
    finally:
        receiver.stop()
    assert receiver.requests == []
    [attempt] = attempts_of(tls_app, delivery_id)
    assert not attempt.succeeded
    assert attempt.error.startswith(f"TLS certificate of {HOOK_HOST} refused: ")
    assert reason in attempt.error
    [delivery] = all_deliveries(tls_app, id=delivery_id)
    assert delivery.status == DeliveryStatus.PENDING  # tried again later: the fix may be theirs
    assert any(reason in record.getMessage() for record in caplog.records)


def test_without_the_ca_setting_the_system_store_decides(tls_app, test_ca):
    tls_app.config["WEBHOOK_CA_FILE"] = ""
    receiver = https_receiver(server_context(test_ca, HOOK_HOST))
    try:
        delivery_id = send_one_webhook(tls_app, receiver)
    finally:
        receiver.stop()
    [attempt] = attempts_of(tls_app, delivery_id)
    assert "unable to get local issuer certificate" in attempt.error
    assert receiver.requests == []


# --- email -------------------------------------------------------------------------------------

MAIL_MODES = {"STARTTLS": {"MAIL_USE_TLS": True}, "implicit TLS": {"MAIL_USE_SSL": True}}


def send_one_email(app, test_ca, ca_file, mode: str, context):
    """A notification sent through a TLS SMTP server made from ``context``; (handler, delivery)."""
    handler = SmtpHandler()
    controller, port = start_tls_smtp(handler, context, implicit=mode == "implicit TLS")
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_CA_FILE=ca_file,
        MAIL_USERNAME="mailer",
        MAIL_PASSWORD=SMTP_PASSWORD,
        **MAIL_MODES[mode],
    )
    try:
        form_id = make_form(app, CONTACT_FIELDS).id
        set_recipients(app, form_id, "owner@example.com")
        submit_answers(app, form_id, ANSWERS)
        run_worker(app)
    finally:
        controller.stop()
    [delivery] = all_deliveries(app, form_id=form_id)
    return handler, delivery


@pytest.mark.parametrize("mode", MAIL_MODES)
def test_email_goes_out_over_tls_with_the_certificate_checked(mail_app, test_ca, ca_file, mode):
    context = server_context(test_ca, "127.0.0.1")
    handler, delivery = send_one_email(mail_app, test_ca, ca_file, mode, context)
    [mail] = handler.messages
    assert mail.rcpt_tos == ["owner@example.com"]
    assert "Over TLS" in mail.text()
    assert delivery.status == DeliveryStatus.DELIVERED


@pytest.mark.parametrize("mode", MAIL_MODES)
@pytest.mark.parametrize("case", BAD_CERTIFICATES)
def test_email_to_a_server_with_a_bad_certificate_fails_and_says_why(
    mail_app, test_ca, ca_file, mode, case
):
    make_context, reason = BAD_CERTIFICATES[case]
    handler, delivery = send_one_email(
        mail_app, test_ca, ca_file, mode, make_context(test_ca, "127.0.0.1")
    )
    assert handler.messages == []
    [attempt] = attempts_of(mail_app, delivery.id)
    assert attempt.error.startswith("SMTP: TLS certificate of 127.0.0.1 refused: ")
    assert reason in attempt.error
    assert delivery.status == DeliveryStatus.PENDING
