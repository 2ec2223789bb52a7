"""The notification settings and webhook forms; the services check what they hold."""

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from app.models import WebhookPreset
from app.services.delivery.netcheck import MAX_URL_CHARS

PRESET_CHOICES = [
    SelectChoice(WebhookPreset.GENERIC.value, "Formyard JSON (signed)"),
    SelectChoice(WebhookPreset.SLACK.value, "Slack incoming webhook"),
    SelectChoice(WebhookPreset.DISCORD.value, "Discord webhook"),
]


class NotificationForm(FlaskForm):
    recipients = TextAreaField(
        "Email these addresses about each new response",
        description="One address per line, up to 10. Leave empty to send no email.",
        validators=[Length(max=3000)],
    )
    autoresponder_enabled = BooleanField("Send the respondent a reply")
    autoresponder_subject = StringField("Subject of the reply", validators=[Length(max=200)])
    autoresponder_message = TextAreaField(
        "Message",
        description="Markdown. Sent to the address given in the form's first email question.",
        validators=[Length(max=10_000)],
    )
    autoresponder_include_answers = BooleanField("Include a copy of their answers")


class WebhookForm(FlaskForm):
    # Checked by webhooks.add_endpoint, for the API too; the attributes are browser hints.
    url = StringField(
        "Address (URL)",
        description="Formyard POSTs JSON here for each new response.",
        render_kw={"required": True, "maxlength": MAX_URL_CHARS},
        filters=[lambda value: value or ""],  # left out of the post: empty, which is refused
    )
    preset = SelectField("Format", choices=PRESET_CHOICES, default=WebhookPreset.GENERIC.value)


class EditWebhookForm(WebhookForm):
    enabled = BooleanField("Enabled")
