"""Webhook endpoints: adding and changing them, queueing their calls, signing and sending them,
and disabling an endpoint that keeps failing.

Requests are signed as Standard Webhooks (standardwebhooks.com) sign them: ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``,
keyed with the bytes a ``whsec_<base64>`` secret encodes, so the maintained ``standardwebhooks``
libraries verify them. The ``X-Formyard-*`` headers of earlier releases are sent too, for one
more release (deprecated); their signature is keyed with the same bytes. Migration 0011 turned
each secret made before (``whsec_`` and random text, whose text was the key) into the
``whsec_<base64>`` of that text, so old receivers' signatures did not change.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from app.exceptions import NotFound
from app.exceptions import ValidationFailed
from app.extensions import db
from app.models import Delivery
from app.models import DeliveryAttempt
from app.models import DeliveryKind
from app.models import DeliveryTrigger
from app.models import Form
from app.models import FormVersion
from app.models import Submission
from app.models import User
from app.models import WebhookEndpoint
from app.models import WebhookPreset
from app.models.delivery import FAILING_TIME_BEFORE_DISABLING
from app.models.delivery import FAILURES_BEFORE_DISABLING
from app.models.types import MAX_ID
from app.models.types import utcnow
from app.services.audit.recording import record
from app.services.delivery import netcheck
from app.services.delivery import outbox
from app.services.delivery.transport import SendResult
from app.services.delivery.transport import tls_context
from app.services.delivery.webhook_payloads import SUBMISSION_EVENT
from app.services.delivery.webhook_payloads import TEST_EVENT
from app.services.delivery.webhook_payloads import ping_body
from app.services.delivery.webhook_payloads import submission_body
from app.services.forms.access import Action
from app.services.forms.access import check_allowed
from app.services.forms.access import get_form_for
from app.services.submissions.answer_sheet import AnsweredField

log = logging.getLogger("formyard.webhooks")

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
SECRET_BYTES = 32
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
EVENT_HEADER = "X-Formyard-Event"
# Deprecated: sent until the release after the one that added the Standard Webhooks headers.
LEGACY_DELIVERY_HEADER = "X-Formyard-Delivery"
LEGACY_SIGNATURE_HEADER = "X-Formyard-Signature"
USER_AGENT = "Formyard-Webhooks/1.0"
MAX_ENDPOINTS_PER_FORM = 20
LOG_PAGE_SIZE = 25


# --- endpoints ---------------------------------------------------------------------------------


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signing_key(secret: str) -> bytes:
    """The bytes a ``whsec_<base64>`` secret encodes: the HMAC key."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def list_endpoints(form: Form) -> list[WebhookEndpoint]:
    query = select(WebhookEndpoint).where(WebhookEndpoint.form_id == form.id)
    return list(db.session.scalars(query.order_by(WebhookEndpoint.id)))


def get_endpoint(form: Form, endpoint_id: int) -> WebhookEndpoint:
    endpoint = _find_endpoint(endpoint_id)
    if endpoint is None or endpoint.form_id != form.id:
        raise NotFound("No such webhook.")
    return endpoint


def get_endpoint_for(user: User, endpoint_id: int, action: Action) -> WebhookEndpoint:
    """An endpoint known by its id alone, if ``user`` may ``action`` its form (not in the trash)."""
    check_allowed(user, action)
    endpoint = _find_endpoint(endpoint_id)
    if endpoint is None:
        raise NotFound("No such webhook.")
    get_form_for(user, endpoint.form_id, action)
    return endpoint


def _find_endpoint(endpoint_id: int) -> WebhookEndpoint | None:
    return db.session.get(WebhookEndpoint, endpoint_id) if 0 < endpoint_id <= MAX_ID else None


def check_endpoint_url(url: str) -> str:
    """``url`` cleaned, if it is a web address that resolves only to addresses we may call."""
    allow_private = current_app.config["WEBHOOK_ALLOW_PRIVATE"]
    netcheck.check_url(url, allow_private=allow_private)
    return url.strip()


def parse_preset(preset: str | WebhookPreset) -> WebhookPreset:
    try:
        return WebhookPreset(preset)
    except ValueError:
        raise ValidationFailed("Choose Formyard JSON, Slack or Discord.", field="preset") from None


def add_endpoint(
    form: Form, user: User | None, url: str, preset: str | WebhookPreset
) -> tuple[WebhookEndpoint, str]:
    """A new enabled endpoint and its secret, which the caller shows once."""
    count = db.session.scalar(
        select(func.count(WebhookEndpoint.id)).where(WebhookEndpoint.form_id == form.id)
    )
    if (count or 0) >= MAX_ENDPOINTS_PER_FORM:
        raise ValidationFailed(f"A form can have at most {MAX_ENDPOINTS_PER_FORM} webhooks.")
    endpoint = WebhookEndpoint(
        form_id=form.id,
        url=check_endpoint_url(url),
        preset=parse_preset(preset),
        secret=new_secret(),
        enabled=True,
        consecutive_failures=0,
        created_by_id=user.id if user else None,
    )
    db.session.add(endpoint)
    db.session.flush()  # the entry names the endpoint's id
    record("webhook.created", endpoint, details={"preset": endpoint.preset.value})
    db.session.commit()
    return endpoint, endpoint.secret


def update_endpoint(
    endpoint: WebhookEndpoint, *, url: str, preset: str | WebhookPreset, enabled: bool
) -> None:
    """Change an endpoint; turning it back on clears its run of failures."""
    endpoint.url = check_endpoint_url(url)
    endpoint.preset = parse_preset(preset)
    if enabled and not endpoint.enabled:
        endpoint.consecutive_failures = 0
        endpoint.disabled_reason = None
    endpoint.enabled = enabled
    record(
        "webhook.updated",
        endpoint,
        details={"preset": endpoint.preset.value, "enabled": enabled},
    )
    db.session.commit()


def rotate_secret(endpoint: WebhookEndpoint) -> str:
    endpoint.secret = new_secret()
    record("webhook.secret_rotated", endpoint)
    db.session.commit()
    return endpoint.secret


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    record("webhook.deleted", endpoint)
    db.session.delete(endpoint)
    db.session.commit()


# --- queueing ----------------------------------------------------------------------------------


def queue_submission_calls(
    form: Form, version: FormVersion | None, submission: Submission, sheet: list[AnsweredField]
) -> list[Delivery]:
    """One delivery per enabled endpoint, in the caller's transaction."""
    endpoints = db.session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.form_id == form.id, WebhookEndpoint.enabled.is_(True)
        )
    )
    return [
        outbox.queue(
            DeliveryKind.WEBHOOK,
            submission_body(endpoint.preset, form, version, submission, sheet),
            event=SUBMISSION_EVENT,
            trigger=DeliveryTrigger.SUBMISSION,
            form_id=form.id,
            submission_id=submission.id,
            endpoint_id=endpoint.id,
        )
        for endpoint in endpoints
    ]


def queue_test_event(form: Form, endpoint: WebhookEndpoint) -> Delivery:
    """A test call, tried once even when the endpoint is disabled: a person asked for it."""
    version = (
        db.session.get(FormVersion, form.published_version_id)
        if form.published_version_id
        else None
    )
    delivery = outbox.queue(
        DeliveryKind.WEBHOOK,
        ping_body(endpoint.preset, form, version),
        event=TEST_EVENT,
        trigger=DeliveryTrigger.TEST,
        form_id=form.id,
        endpoint_id=endpoint.id,
        max_attempts=1,
    )
    db.session.commit()
    return delivery


def redeliver(endpoint: WebhookEndpoint, delivery_id: int) -> Delivery:
    """Send an endpoint's delivery again, as a new delivery with a new id."""
    original = db.session.get(Delivery, delivery_id)
    if original is None or original.endpoint_id != endpoint.id:
        raise NotFound("No such delivery.")
    copy = outbox.copy_for_redelivery(original)
    db.session.commit()
    return copy


# --- the log -----------------------------------------------------------------------------------


def delivery_log(
    endpoint: WebhookEndpoint, before: int | None = None
) -> tuple[list[Delivery], dict[int, list[DeliveryAttempt]], int | None]:
    """A page of the endpoint's deliveries, newest first, with their attempts (two queries),
    and the id to pass as ``before`` for the next page."""
    query = select(Delivery).where(Delivery.endpoint_id == endpoint.id)
    if before is not None:
        query = query.where(Delivery.id < before)
    deliveries = list(
        db.session.scalars(query.order_by(Delivery.id.desc()).limit(LOG_PAGE_SIZE + 1))
    )
    more = len(deliveries) > LOG_PAGE_SIZE
    deliveries = deliveries[:LOG_PAGE_SIZE]
    attempts: dict[int, list[DeliveryAttempt]] = {delivery.id: [] for delivery in deliveries}
    if deliveries:
        rows = db.session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id.in_(list(attempts)))
            .order_by(DeliveryAttempt.id.desc())
        )
        for attempt in rows:
            attempts[attempt.delivery_id].append(attempt)
    return deliveries, attempts, deliveries[-1].id if more else None


# --- sending -----------------------------------------------------------------------------------


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,`` and the base64 HMAC-SHA256 of
    ``"{id}.{timestamp}." + body`` keyed with the secret's bytes."""
    message = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def legacy_sign(secret: str, timestamp: int, body: bytes) -> str:
    """Deprecated ``X-Formyard-Signature``'s ``v1``: hex HMAC-SHA256 of ``"{timestamp}." + body``
    keyed with the secret's bytes (the delivery id is not covered)."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(signing_key(secret), message, hashlib.sha256).hexdigest()


def request_headers(
    secret: str, public_id: str, event: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        ID_HEADER: public_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, public_id, timestamp, body),
        EVENT_HEADER: event,
        LEGACY_DELIVERY_HEADER: public_id,
        LEGACY_SIGNATURE_HEADER: f"t={timestamp},v1={legacy_sign(secret, timestamp, body)}",
    }


def encode_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def send(
    endpoint: WebhookEndpoint, public_id: str, event: str, payload: dict[str, Any]
) -> SendResult:
    """One POST to ``endpoint``, its address checked again now (DNS may have changed)."""
    try:
        target = netcheck.check_url(
            endpoint.url, allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE"]
        )
    except ValidationFailed as error:
        return SendResult.failure(error.message)
    body = encode_body(payload)
    headers = request_headers(endpoint.secret, public_id, event, body)
    config = current_app.config
    tls = tls_context(config["WEBHOOK_CA_FILE"]) if target.scheme == "https" else None
    return netcheck.post(target, body, headers, timeout=config["WEBHOOK_TIMEOUT"], tls=tls)


# --- failures in a row -------------------------------------------------------------------------


def note_result(endpoint_id: int, succeeded: bool, now: datetime | None = None) -> bool:
    """Count an attempt's outcome against its endpoint; returns True when this failure is the
    one that disables it. The caller commits."""
    if succeeded:
        db.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.consecutive_failures > 0)
            .values(consecutive_failures=0, updated_at=WebhookEndpoint.updated_at)
        )
        return False
    failures = db.session.scalar(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(
            consecutive_failures=WebhookEndpoint.consecutive_failures + 1,
            updated_at=WebhookEndpoint.updated_at,
        )
        .returning(WebhookEndpoint.consecutive_failures)
    )
    if failures is None or failures < FAILURES_BEFORE_DISABLING:
        return False
    now = now or utcnow()
    if now - _failing_since(endpoint_id, now) < FAILING_TIME_BEFORE_DISABLING:
        return False
    return _disable(endpoint_id, failures, now)


def _failing_since(endpoint_id: int, now: datetime) -> datetime:
    """When the endpoint's run of failures began: its first failed attempt since its last
    success. Asked only once a run is long enough to disable it, so it is rarely run."""
    attempts = (
        select(func.min(DeliveryAttempt.started_at))
        .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
        .where(Delivery.endpoint_id == endpoint_id)
    )
    last_success = db.session.scalar(
        attempts.with_only_columns(func.max(DeliveryAttempt.started_at)).where(
            DeliveryAttempt.succeeded.is_(True)
        )
    )
    failures = attempts.where(DeliveryAttempt.succeeded.is_(False))
    if last_success is not None:
        failures = failures.where(DeliveryAttempt.started_at > last_success)
    return db.session.scalar(failures) or now


def _disable(endpoint_id: int, failures: int, now: datetime) -> bool:
    reason = f"Disabled on {now:%Y-%m-%d %H:%M} UTC after {failures} failed deliveries in a row."
    # Only one worker turns it off (and emails the owner), however many fail at once.
    disabled = db.session.scalar(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.enabled.is_(True))
        .values(enabled=False, disabled_reason=reason, updated_at=now)
        .returning(WebhookEndpoint.id)
    )
    if disabled is None:
        return False
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    record("webhook.disabled", endpoint, details={"failures": failures})
    outbox.fail_pending(endpoint_id, "The webhook was disabled after failing repeatedly.", now)
    log.warning("webhook %s disabled after %s failures in a row", endpoint_id, failures)
    return True
