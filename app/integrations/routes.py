from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user

from app.auth.signing_in import fresh_sign_in_required
from app.exceptions import DomainError
from app.integrations import bp
from app.integrations.forms import EditWebhookForm
from app.integrations.forms import NotificationForm
from app.integrations.forms import WebhookForm
from app.models import Form
from app.models import WebhookEndpoint
from app.request_checks import parse_id
from app.services import forms
from app.services.delivery import notifications
from app.services.delivery import webhooks
from app.views import add_domain_error
from app.views import render_form_page


def _form(form_id: int) -> Form:
    return forms.get_form_for(current_user, form_id, "edit")


@bp.route("/notifications", methods=["GET", "POST"])
def edit_notifications(form_id: int):
    form = _form(form_id)
    settings = notifications.get_settings(form)
    wtform = NotificationForm(
        recipients="\n".join(settings.recipients),
        autoresponder_enabled=settings.autoresponder_enabled,
        autoresponder_subject=settings.autoresponder_subject,
        autoresponder_message=settings.autoresponder_message,
        autoresponder_include_answers=settings.autoresponder_include_answers,
    )
    if wtform.validate_on_submit():
        try:
            notifications.update_settings(
                form,
                recipients=wtform.recipients.data or "",
                autoresponder_enabled=wtform.autoresponder_enabled.data,
                autoresponder_subject=wtform.autoresponder_subject.data or "",
                autoresponder_message=wtform.autoresponder_message.data or "",
                autoresponder_include_answers=wtform.autoresponder_include_answers.data,
            )
        except DomainError as error:
            add_domain_error(wtform, error)
        else:
            flash("Email settings saved.", "success")
            return redirect(url_for("integrations.edit_notifications", form_id=form.id), 303)
    return render_form_page(
        "integrations/notifications.html",
        notification_form=wtform,
        form=form,
        mail_configured=notifications.mail_configured(),
    )


@bp.get("/webhooks")
def list_webhooks(form_id: int):
    form = _form(form_id)
    return _webhooks_page(form, WebhookForm(), 200)


@bp.post("/webhooks")
def add_webhook(form_id: int):
    form = _form(form_id)
    wtform = WebhookForm()
    if wtform.validate_on_submit():
        try:
            endpoint, secret = webhooks.add_endpoint(
                form, current_user, wtform.url.data, wtform.preset.data
            )
        except DomainError as error:
            add_domain_error(wtform, error)
        else:
            # Shown in this answer only; later pages never show the secret again.
            page = render_template(
                "integrations/secret.html", form=form, endpoint=endpoint, secret=secret
            )
            return page, 201
    return _webhooks_page(form, wtform, 422)


def _webhooks_page(form: Form, wtform: WebhookForm, status: int):
    page = render_template(
        "integrations/webhooks.html",
        form=form,
        webhook_form=wtform,
        endpoints=webhooks.list_endpoints(form),
    )
    return page, status


@bp.route("/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
def show_webhook(form_id: int, endpoint_id: int):
    form = _form(form_id)
    endpoint = webhooks.get_endpoint(form, endpoint_id)
    wtform = EditWebhookForm(obj=endpoint, preset=endpoint.preset.value)
    if wtform.validate_on_submit():
        try:
            webhooks.update_endpoint(
                endpoint,
                url=wtform.url.data,
                preset=wtform.preset.data,
                enabled=wtform.enabled.data,
            )
        except DomainError as error:
            add_domain_error(wtform, error)
        else:
            flash("Webhook saved.", "success")
            return redirect(_webhook_url(endpoint), 303)
    before = request.args.get("before", type=parse_id)
    deliveries, attempts, older = webhooks.delivery_log(endpoint, before)
    return render_form_page(
        "integrations/webhook.html",
        webhook_form=wtform,
        form=form,
        endpoint=endpoint,
        deliveries=deliveries,
        attempts=attempts,
        older=older,
    )


def _webhook_url(endpoint: WebhookEndpoint) -> str:
    return url_for("integrations.show_webhook", form_id=endpoint.form_id, endpoint_id=endpoint.id)


@bp.post("/webhooks/<int:endpoint_id>/test")
def send_test_event(form_id: int, endpoint_id: int):
    form = _form(form_id)
    endpoint = webhooks.get_endpoint(form, endpoint_id)
    webhooks.queue_test_event(form, endpoint)
    flash("Test event queued. Reload this page in a moment to see how it went.", "success")
    return redirect(_webhook_url(endpoint), 303)


@bp.post("/webhooks/<int:endpoint_id>/deliveries/<bigid:delivery_id>/redeliver")
def redeliver(form_id: int, endpoint_id: int, delivery_id: int):
    endpoint = webhooks.get_endpoint(_form(form_id), endpoint_id)
    copy = webhooks.redeliver(endpoint, delivery_id)
    flash(f"Redelivery queued with the new id {copy.public_id}.", "success")
    return redirect(_webhook_url(endpoint), 303)


@bp.post("/webhooks/<int:endpoint_id>/secret")
@fresh_sign_in_required(
    then=lambda form_id, endpoint_id: url_for(
        "integrations.show_webhook", form_id=form_id, endpoint_id=endpoint_id
    )
)
def rotate_secret(form_id: int, endpoint_id: int):
    form = _form(form_id)
    endpoint = webhooks.get_endpoint(form, endpoint_id)
    secret = webhooks.rotate_secret(endpoint)
    return render_template(
        "integrations/secret.html", form=form, endpoint=endpoint, secret=secret, rotated=True
    )


@bp.post("/webhooks/<int:endpoint_id>/delete")
def delete_webhook(form_id: int, endpoint_id: int):
    form = _form(form_id)
    webhooks.delete_endpoint(webhooks.get_endpoint(form, endpoint_id))
    flash("Webhook deleted, with its delivery log.", "success")
    return redirect(url_for("integrations.list_webhooks", form_id=form.id), 303)
