from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import EmailField
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import Length

from app.services.accounts.passwords import MAX_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    remember = BooleanField("Keep me signed in for 14 days")


class SetupForm(FlaskForm):
    setup_code = StringField(
        "Setup code",
        description="Printed in the server's log when Formyard starts, as ABCD-EFGH-JKLM.",
        validators=[DataRequired(), Length(max=40)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    display_name = StringField("Your name", validators=[DataRequired(), Length(max=100)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        "Password",
        description="At least 10 characters. A passphrase of a few words is best.",
        validators=[DataRequired()],
    )
    confirm = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", "The passwords differ.")]
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        description="At least 10 characters. A passphrase of a few words is best.",
        validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)],
    )
    confirm = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", "The passwords differ.")]
    )


# The second step and confirming it is you: one small form per method, so the page can list
# each method the person has (and a later one, such as a passkey, adds its own form).
ONE_TIME_CODE = {"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 12}


class AuthenticatorCodeForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app",
        description="Six digits; a new one every 30 seconds.",
        validators=[DataRequired("Enter the code from your app."), Length(max=12)],
        render_kw=ONE_TIME_CODE,
    )


class RecoveryCodeForm(FlaskForm):
    recovery_code = StringField(
        "Recovery code",
        description="One of the codes you saved when you set up two-step verification. "
        "Each works once.",
        validators=[DataRequired("Enter a recovery code."), Length(max=40)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password."), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
