from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms import RadioField
from wtforms import SelectField
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import Length

from app.models import TokenScope
from app.services.accounts.passwords import MAX_PASSWORD_LENGTH
from app.services.accounts.tokens import MAX_NAME_CHARS


class ProfileForm(FlaskForm):
    display_name = StringField("Name", validators=[DataRequired(), Length(max=100)])
    timezone = SelectField(
        "Time zone",
        description="Times in the inbox are shown in this zone.",
        choices=sorted(available_timezones()),
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    new_password = PasswordField(
        "New password",
        description="At least 10 characters. Signs you out everywhere else.",
        validators=[DataRequired()],
    )
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("new_password", "The passwords differ.")],
    )


class NewTokenForm(FlaskForm):
    """Only parses: tokens.create_token checks the name and the scope, for the CLI too, and its
    messages show next to these fields. The attributes are the browser's hints of that rule."""

    name = StringField(
        "Token name",
        description="Where it will be used, such as: CRM sync.",
        render_kw={"required": True, "maxlength": MAX_NAME_CHARS},
    )
    scope = RadioField(
        "Scope",
        description="A token never does more than your role allows.",
        choices=[
            SelectChoice(TokenScope.READ.value, "Read"),
            SelectChoice(TokenScope.WRITE.value, "Read and write"),
        ],
        default=TokenScope.READ.value,
        validate_choice=False,
    )
