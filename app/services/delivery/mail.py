"""Building and sending email: SMTP when MAIL_SERVER is set, else (outside production) a file in
MAIL_FILE_DIR and a line in the log, so a new user sees what would have been sent."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from flask import current_app

from app.models.types import utcnow
from app.services.delivery.transport import SendResult
from app.services.delivery.transport import certificate_refused
from app.services.delivery.transport import tls_context

log = logging.getLogger("formyard.mail")

SUBJECT_CHARS = 200


def clean_header(value: str, limit: int = SUBJECT_CHARS) -> str:
    """One line of header text: a respondent's ``_subject`` cannot add headers."""
    return " ".join(str(value).split())[:limit]


def email_payload(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    *,
    reply_to: str | None = None,
    auto_submitted: str = "auto-generated",
) -> dict[str, Any]:
    """What the outbox keeps for one email: everything needed to send it later."""
    return {
        "to": to,
        "subject": clean_header(subject),
        "text": text,
        "html": html,
        "reply_to": reply_to,
        "auto_submitted": auto_submitted,
    }


def build_message(payload: dict[str, Any], public_id: str) -> EmailMessage:
    """The MIME message for ``payload``; its Message-ID carries the delivery id, so a message
    sent twice (at least once delivery) can be recognised."""
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    message = EmailMessage()
    message["Subject"] = clean_header(payload["subject"])
    message["From"] = sender
    message["To"] = payload["to"]
    if payload.get("reply_to"):
        message["Reply-To"] = payload["reply_to"]
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<{public_id}@{_sender_domain(sender)}>"
    message["Auto-Submitted"] = payload.get("auto_submitted") or "auto-generated"
    message["X-Formyard-Delivery"] = public_id
    message.set_content(payload["text"])
    if payload.get("html"):
        message.add_alternative(payload["html"], subtype="html")
    return message


def _sender_domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "formyard.invalid"


def send_message(message: EmailMessage) -> SendResult:
    """Send by SMTP, or write to MAIL_FILE_DIR when no server is set outside production."""
    config = current_app.config
    if config["MAIL_SERVER"]:
        return _send_smtp(message, config)
    if config["APP_ENV"] == "production":
        return SendResult.failure("MAIL_SERVER is not set, so no email can be sent.")
    return _write_file(message, Path(config["MAIL_FILE_DIR"]))


def _send_smtp(message: EmailMessage, config: dict[str, Any]) -> SendResult:
    try:
        with _connect(config) as smtp:
            refused = smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()))
        return _smtp_failure(code, reply)
    except smtplib.SMTPResponseException as error:
        return _smtp_failure(error.smtp_code, error.smtp_error)
    except ssl.SSLCertVerificationError as error:
        reason = certificate_refused(config["MAIL_SERVER"], error)
        log.warning("mail to %s not sent: %s", message["To"], reason)
        return SendResult.failure(f"SMTP: {reason}")
    except (OSError, smtplib.SMTPException) as error:
        return SendResult.failure(f"SMTP: {error.__class__.__name__}: {error}")
    if refused:
        code, reply = next(iter(refused.values()))
        return _smtp_failure(code, reply)
    log.info("mail sent to %s: %s", message["To"], message["Subject"])
    return SendResult(True, status_code=250)


def _connect(config: dict[str, Any]) -> smtplib.SMTP:
    host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT"]
    context = tls_context(config["MAIL_CA_FILE"])
    if config["MAIL_USE_SSL"]:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if config["MAIL_USE_TLS"]:
            smtp.starttls(context=context)
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    except BaseException:
        smtp.close()
        raise
    return smtp


def _smtp_failure(code: int, reply: bytes | str) -> SendResult:
    # 5xx is the server's final answer (no such mailbox, refused); 4xx is worth another try.
    text = f"SMTP {code}: {_reply_text(reply)}"
    return SendResult.failure(text, status_code=code, permanent=500 <= code < 600)


def _reply_text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _write_file(message: EmailMessage, directory: Path) -> SendResult:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S")
    path = directory / f"{stamp}-{message['X-Formyard-Delivery']}.eml"
    path.write_bytes(bytes(message))
    log.info(
        "MAIL_SERVER is not set; mail to %s (%s) written to %s",
        message["To"],
        message["Subject"],
        path,
    )
    return SendResult(True, response_excerpt=f"written to {path}")
