"""Email about a form: who hears of new submissions, the reply to the respondent, and the note
to an owner when one of the form's webhooks was disabled."""

from __future__ import annotations

from flask import current_app
from flask import render_template
from sqlalchemy import select

from app.exceptions import ValidationFailed
from app.extensions import db
from app.links import external_url_or_none
from app.markdown import render_markdown
from app.models import DeliveryKind
from app.models import DeliveryTrigger
from app.models import Form
from app.models import FormNotification
from app.models import FormVersion
from app.models import Role
from app.models import Submission
from app.models import User
from app.models import WebhookEndpoint
from app.models.delivery import MAX_RECIPIENTS
from app.services.accounts.users import normalize_email
from app.services.audit.recording import record
from app.services.delivery import outbox
from app.services.delivery.mail import email_payload
from app.services.submissions.answer_sheet import AnsweredField
from app.services.submissions.answer_sheet import first_email_answer

NOTIFICATION_EVENT = "notification"
AUTORESPONSE_EVENT = "autoresponse"
WEBHOOK_DISABLED_EVENT = "webhook_disabled"


def mail_configured() -> bool:
    """Whether email really leaves: an SMTP server, or the development mail folder."""
    config = current_app.config
    return bool(config["MAIL_SERVER"]) or config["APP_ENV"] != "production"


def get_settings(form: Form) -> FormNotification:
    """The form's email settings; an unsaved blank row when it has none yet."""
    settings = db.session.get(FormNotification, form.id)
    return settings or FormNotification(
        form_id=form.id,
        recipients=[],
        autoresponder_enabled=False,
        autoresponder_subject="",
        autoresponder_message="",
        autoresponder_include_answers=False,
    )


def parse_recipients(text: str) -> list[str]:
    """Addresses separated by commas, semicolons or new lines; each checked, none twice."""
    recipients: list[str] = []
    for raw in text.replace(";", ",").replace("\n", ",").split(","):
        if not raw.strip():
            continue
        try:
            address = normalize_email(raw)
        except ValidationFailed:
            raise ValidationFailed(
                f'"{raw.strip()}" is not an email address.', field="recipients"
            ) from None
        if address not in recipients:
            recipients.append(address)
    if len(recipients) > MAX_RECIPIENTS:
        raise ValidationFailed(f"List at most {MAX_RECIPIENTS} addresses.", field="recipients")
    return recipients


def update_settings(
    form: Form,
    *,
    recipients: str,
    autoresponder_enabled: bool,
    autoresponder_subject: str,
    autoresponder_message: str,
    autoresponder_include_answers: bool,
) -> FormNotification:
    settings = get_settings(form)
    settings.recipients = parse_recipients(recipients)
    subject = " ".join(autoresponder_subject.split())[:200]
    message = autoresponder_message.strip()[:10_000]
    if autoresponder_enabled and not subject:
        raise ValidationFailed("Write the subject of the reply.", field="autoresponder_subject")
    if autoresponder_enabled and not message:
        raise ValidationFailed("Write the reply's message.", field="autoresponder_message")
    settings.autoresponder_enabled = autoresponder_enabled
    settings.autoresponder_subject = subject
    settings.autoresponder_message = message
    settings.autoresponder_include_answers = autoresponder_include_answers
    db.session.add(settings)
    record(
        "notifications.changed",
        form,
        details={
            "recipients": len(settings.recipients),
            "autoresponder": autoresponder_enabled,
            "autoresponder_includes_answers": autoresponder_include_answers,
        },
    )
    db.session.commit()
    return settings


def respondent_address(
    form: Form, version: FormVersion | None, submission: Submission
) -> str | None:
    """Where a reply reaches the respondent: a built form's first answered email question,
    else what ``_replyto`` (or an ``email`` field) of a posted form said."""
    if not form.is_endpoint:
        address = first_email_answer(version, submission)
        if address:
            return address
    return (submission.meta or {}).get("reply_to") or None


def queue_submission_emails(
    form: Form, version: FormVersion | None, submission: Submission, sheet: list[AnsweredField]
) -> None:
    """The notification to each recipient and the optional reply, in the caller's transaction."""
    settings = db.session.get(FormNotification, form.id)
    if settings is None:
        return
    reply_to = respondent_address(form, version, submission)
    context = {
        "form": form,
        "version": version,
        "submission": submission,
        "sheet": sheet,
        "inbox_url": external_url_or_none(
            "inbox.show_submission", form_id=form.id, submission_id=submission.id
        ),
    }
    if settings.recipients:
        subject = (submission.meta or {}).get("subject") or f"New response to {form.title}"
        text = render_template("email/notification.txt", **context)
        html = render_template("email/notification.html", **context)
        for recipient in settings.recipients:
            _queue_email(
                form,
                submission,
                NOTIFICATION_EVENT,
                email_payload(recipient, subject, text, html, reply_to=reply_to),
            )
    if settings.autoresponder_enabled and reply_to:
        _queue_autoresponse(form, submission, settings, reply_to, context)


def _queue_autoresponse(
    form: Form, submission: Submission, settings: FormNotification, to: str, context: dict
) -> None:
    context = {
        **context,
        "settings": settings,
        "message_html": render_markdown(settings.autoresponder_message),
    }
    payload = email_payload(
        to,
        settings.autoresponder_subject,
        render_template("email/autoresponse.txt", **context),
        render_template("email/autoresponse.html", **context),
        auto_submitted="auto-replied",
    )
    _queue_email(form, submission, AUTORESPONSE_EVENT, payload)


def _queue_email(form: Form, submission: Submission, event: str, payload: dict) -> None:
    outbox.queue(
        DeliveryKind.EMAIL,
        payload,
        event=event,
        trigger=DeliveryTrigger.SUBMISSION,
        form_id=form.id,
        submission_id=submission.id,
    )


def form_owners(form: Form) -> list[User]:
    """Who answers for a form: its creator while active, else every active owner."""
    creator = db.session.get(User, form.created_by_id) if form.created_by_id else None
    if creator is not None and creator.is_active_user:
        return [creator]
    query = select(User).where(User.role == Role.OWNER, User.is_active_user.is_(True))
    return list(db.session.scalars(query.order_by(User.id)))


def queue_webhook_disabled_email(endpoint_id: int) -> None:
    """Tell the form's owner that ``endpoint_id`` was turned off; the caller commits."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    form = db.session.get(Form, endpoint.form_id) if endpoint else None
    if endpoint is None or form is None:
        return
    context = {
        "form": form,
        "endpoint": endpoint,
        "webhook_url": external_url_or_none(
            "integrations.show_webhook", form_id=form.id, endpoint_id=endpoint.id
        ),
    }
    subject = f"Webhook disabled for {form.title}"
    text = render_template("email/webhook_disabled.txt", **context)
    html = render_template("email/webhook_disabled.html", **context)
    for owner in form_owners(form):
        outbox.queue(
            DeliveryKind.EMAIL,
            email_payload(owner.email, subject, text, html),
            event=WEBHOOK_DISABLED_EVENT,
            trigger=DeliveryTrigger.SYSTEM,
            form_id=form.id,
        )
