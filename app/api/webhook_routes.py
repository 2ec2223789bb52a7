"""Webhooks: a form's endpoints, adding one (its secret shown once), deleting one, and the log of
what was sent to it."""

from __future__ import annotations

from marshmallow import RAISE

from app.api import bp
from app.api import present
from app.api.auth import api_user
from app.api.errors import ApiError
from app.api.openapi import errors
from app.api.paths import ID
from app.api.schemas import DeliveryListArgsSchema
from app.api.schemas import DeliveryPageSchema
from app.api.schemas import WebhookCreatedSchema
from app.api.schemas import WebhookCreateSchema
from app.api.schemas import WebhookListSchema
from app.models.types import MAX_BIG_ID
from app.services import forms
from app.services.delivery import webhooks


@bp.route(f"/forms/<{ID}:form_id>/webhooks", methods=["GET"], tags=["Webhooks"])
@bp.response(200, WebhookListSchema)
@errors(bp, 404)
def list_webhooks(form_id: int):
    """List a form's webhooks

    Needs the editor role, as the webhook pages do.
    """
    form = forms.get_form_for(api_user(), form_id, "edit")
    endpoints = webhooks.list_endpoints(form)
    return {"data": [present.webhook_detail(endpoint) for endpoint in endpoints]}


@bp.route(f"/forms/<{ID}:form_id>/webhooks", methods=["POST"], tags=["Webhooks"])
@bp.arguments(WebhookCreateSchema)
@bp.response(201, WebhookCreatedSchema)
@errors(bp, 404, 422)
def create_webhook(values: dict, form_id: int):
    """Add a webhook

    Each new submission is POSTed to `url`, signed as Standard Webhooks are (`webhook-id`,
    `webhook-timestamp`, `webhook-signature`) with the secret in this answer, which is never
    shown again. Addresses inside private networks are refused.
    """
    user = api_user()
    form = forms.get_form_for(user, form_id, "edit")
    endpoint, secret = webhooks.add_endpoint(form, user, values["url"], values["preset"])
    return {**present.webhook_detail(endpoint), "secret": secret}, 201


@bp.route(f"/webhooks/<{ID}:webhook_id>", methods=["DELETE"], tags=["Webhooks"])
@bp.response(204)
@errors(bp, 404)
def delete_webhook(webhook_id: int):
    """Delete a webhook

    With its delivery log; deliveries still waiting are dropped.
    """
    webhooks.delete_endpoint(webhooks.get_endpoint_for(api_user(), webhook_id, "edit"))


@bp.route(f"/webhooks/<{ID}:webhook_id>/deliveries", methods=["GET"], tags=["Webhooks"])
@bp.arguments(DeliveryListArgsSchema, location="query", error_status_code=400, unknown=RAISE)
@bp.response(200, DeliveryPageSchema)
@errors(bp, 404)
def list_deliveries(args: dict, webhook_id: int):
    """List a webhook's deliveries

    Newest first, each with its attempts (time, status, duration, the start of the answer).
    """
    endpoint = webhooks.get_endpoint_for(api_user(), webhook_id, "edit")
    deliveries, attempts, older = webhooks.delivery_log(endpoint, _before(args.get("cursor")))
    return {
        "data": [present.delivery_detail(item, attempts[item.id]) for item in deliveries],
        "next_cursor": str(older) if older else None,
    }


def _before(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 19 or int(cursor) > MAX_BIG_ID:
        details = {"cursor": ["Pass the next_cursor of a page, as it was given."]}
        raise ApiError(400, "The cursor is not one this API gave.", details=details)
    return int(cursor)
