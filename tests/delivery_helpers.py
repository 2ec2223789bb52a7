"""A real SMTP server and a real HTTP receiver on loopback, a clock tests can move, and the
fields, submissions, workers and stored deliveries of the email, webhook and worker tests.

Test modules import the fixtures they use (``smtp_server_fixture`` provides ``smtp_server``).

Both servers listen on 127.0.0.1 only, on a port the system picks, and stop at the end of the
test that started them.
"""

from __future__ import annotations

import email
import json
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.caching import clear_process_caches
from app.extensions import db
from app.models import Delivery
from app.models import DeliveryAttempt
from app.models import Form
from app.models import WebhookEndpoint
from app.models.types import utcnow
from app.services.delivery import notifications
from app.services.delivery import webhooks
from app.services.delivery.worker import Worker
from app.services.submissions import SubmissionContext
from app.services.submissions import submit

SMTP_USER = "mailer"
SMTP_PASSWORD = "smtp password 123"
CONTACT_FIELDS: list[dict[str, Any]] = [
    {"key": "name", "type": "short_text", "label": "Your name", "required": True},
    {"key": "work_email", "type": "email", "label": "Work email"},
    {"key": "email", "type": "email", "label": "Email"},
    {"key": "message", "type": "long_text", "label": "Message"},
    {"key": "heading", "type": "section", "label": "More"},
    {"key": "size", "type": "single_choice", "label": "Size", "rules": {"choices": ["S", "M"]}},
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- SMTP ------------------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content().replace("\r\n", "\n")

    def html(self) -> str:
        return self.message.get_body(("html",)).get_content().replace("\r\n", "\n")


class SmtpHandler:
    def __init__(self) -> None:
        self.messages: list[ReceivedMail] = []
        # Recipient address -> SMTP reply given at RCPT, to act out refusals.
        self.refuse: dict[str, str] = {}
        self.received = threading.Condition()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        with self.received:
            self.messages.append(ReceivedMail(envelope.mail_from, envelope.rcpt_tos, message))
            self.received.notify_all()
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: SmtpHandler
    logins: list[str] = field(default_factory=list)

    @property
    def messages(self) -> list[ReceivedMail]:
        return self.handler.messages

    def to(self, address: str) -> list[ReceivedMail]:
        return [mail for mail in self.messages if address in mail.rcpt_tos]

    def one_to(self, address: str) -> ReceivedMail:
        found = self.to(address)
        assert len(found) == 1, f"{len(found)} messages to {address}: {found}"
        return found[0]


@pytest.fixture(name="smtp_server")
def smtp_server_fixture():
    """aiosmtpd on loopback; AUTH LOGIN/PLAIN offered without TLS, for the login test."""
    handler = SmtpHandler()
    port = free_port()
    server = SmtpServer("127.0.0.1", port, handler)

    def authenticate(_server, _session, _envelope, _mechanism, auth_data):
        ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
        if ok:
            server.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


# --- HTTP receiver -----------------------------------------------------------------------------


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


class Receiver:
    """Records every request; answers with the scripted replies in turn, then ``default``.
    ``hold`` keeps requests open until set; ``arrived`` is set when one comes in."""

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.replies: deque[Reply] = deque()
        self.default = Reply()
        self.hold: threading.Event | None = None
        self.arrived = threading.Event()
        self.lock = threading.Lock()
        self.in_flight: dict[str, int] = {}
        self.overlaps: list[str] = []  # delivery ids seen twice at the same time
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def script(self, *replies: Reply | int) -> None:
        for reply in replies:
            self.replies.append(Reply(reply) if isinstance(reply, int) else reply)

    def delivery_ids(self) -> list[str]:
        return [request.headers["webhook-id"] for request in self.requests]

    def _handle(self, handler: BaseHTTPRequestHandler) -> Reply:
        length = int(handler.headers.get("Content-Length", "0"))
        body = handler.rfile.read(length)
        delivery_id = handler.headers.get("webhook-id", "")
        with self.lock:
            self.requests.append(
                ReceivedRequest(handler.path, dict(handler.headers), body, time.monotonic())
            )
            if self.in_flight.get(delivery_id):
                self.overlaps.append(delivery_id)
            self.in_flight[delivery_id] = self.in_flight.get(delivery_id, 0) + 1
            reply = self.replies.popleft() if self.replies else self.default
        self.arrived.set()
        try:
            if self.hold is not None:
                self.hold.wait(timeout=30)
            if reply.delay:
                time.sleep(reply.delay)
        finally:
            with self.lock:
                self.in_flight[delivery_id] -= 1
        return reply

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                reply = receiver._handle(self)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the client gave up (timed out, or was killed)

            def log_message(self, *_args: Any) -> None:
                pass

        return Handler

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(name="receiver")
def receiver_fixture():
    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()


# --- the app and submissions -------------------------------------------------------------------


@pytest.fixture(name="mail_app")
def mail_app_fixture(app, smtp_server):
    """The test app sending mail to ``smtp_server`` and allowed to call loopback receivers."""
    clear_process_caches()  # ids repeat between tests; the caches must not
    app.config.update(
        MAIL_SERVER=smtp_server.host,
        MAIL_PORT=smtp_server.port,
        MAIL_DEFAULT_SENDER="Formyard <forms@example.org>",
        WEBHOOK_ALLOW_PRIVATE=True,
        SUBMISSION_RATE_LIMIT="1000 per minute",
    )
    yield app
    clear_process_caches()


class Clock:
    """Now, moved by hand: ``advance`` replaces waiting."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


def set_recipients(app, form_id: int, recipients: str, **autoresponder: Any) -> None:
    with app.app_context():
        form = db.session.get(Form, form_id)
        notifications.update_settings(
            form,
            recipients=recipients,
            autoresponder_enabled=autoresponder.get("enabled", False),
            autoresponder_subject=autoresponder.get("subject", ""),
            autoresponder_message=autoresponder.get("message", ""),
            autoresponder_include_answers=autoresponder.get("include_answers", False),
        )


def add_webhook(app, form_id: int, url: str, preset: str = "generic") -> tuple[int, str]:
    """An endpoint through the service; its id and secret."""
    with app.app_context():
        form = db.session.get(Form, form_id)
        endpoint, secret = webhooks.add_endpoint(form, None, url, preset)
        return endpoint.id, secret


def submit_answers(app, form_id: int, answers: dict[str, Any], **context: Any) -> int:
    """Submit through the service every page and endpoint post goes through; the id."""
    with app.test_request_context():
        form = db.session.get(Form, form_id)
        data = MultiDict(answers)
        accepted = submit(form, data, MultiDict(), SubmissionContext(**context))
        return accepted.submission_id


def run_worker(app, clock: Clock | None = None, **options: Any) -> int:
    """One pass of a worker: sends what is due at ``clock`` time; how many it handled."""
    return Worker(app, clock=clock or utcnow, **options).run_once()


def all_deliveries(app, **filters: Any) -> list[Delivery]:
    with app.app_context():
        query = select(Delivery).filter_by(**filters).order_by(Delivery.id)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def attempts_of(app, delivery_id: int) -> list[DeliveryAttempt]:
    with app.app_context():
        query = select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id)
        rows = list(db.session.scalars(query.order_by(DeliveryAttempt.id)))
        db.session.expunge_all()
        return rows


def fetch_endpoint(app, endpoint_id: int) -> WebhookEndpoint:
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        db.session.expunge(endpoint)
        return endpoint


# --- TLS ---------------------------------------------------------------------------------------


class TlsReceiver(Receiver):
    """The receiver over HTTPS with ``server_context``'s certificate; ``host`` is the name in
    its URL (tests point the resolver at 127.0.0.1); ``server_names`` records each client's SNI."""

    def __init__(self, server_context: ssl.SSLContext, host: str) -> None:
        super().__init__()
        self.host = host
        self.server_names: list[str | None] = []
        server_context.sni_callback = self._note_server_name
        # The handshake runs in each request's thread, so a refused one stops nothing else.
        self.server.socket = server_context.wrap_socket(
            self.server.socket, server_side=True, do_handshake_on_connect=False
        )

    def _note_server_name(self, _sock, server_name, _context) -> None:
        self.server_names.append(server_name)

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.server.server_address[1]}/hook"


def start_tls_smtp(handler: SmtpHandler, server_context: ssl.SSLContext, *, implicit: bool):
    """aiosmtpd on loopback speaking TLS from the first byte (``implicit``, port 465 style) or
    offering and requiring STARTTLS (port 587 style); AUTH only once TLS is up."""
    port = free_port()

    def authenticate(_server, _session, _envelope, _mechanism, auth_data):
        return AuthResult(success=auth_data.password == SMTP_PASSWORD.encode())

    tls_options = (
        # aiosmtpd knows only its own STARTTLS as TLS; under implicit TLS all of it is.
        {"ssl_context": server_context, "auth_require_tls": False}
        if implicit
        else {"tls_context": server_context, "require_starttls": True}
    )
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, authenticator=authenticate, **tls_options
    )
    controller.start()
    return controller, port
