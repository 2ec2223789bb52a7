from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms import RadioField
from wtforms import SelectField
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.validators import Length

from app.models import Role
from app.services.accounts.two_step_policy import POLICY_LABELS

ROLE_CHOICES = [
    SelectChoice(Role.VIEWER.value, "Viewer: reads submissions and exports"),
    SelectChoice(Role.EDITOR.value, "Editor: also builds and changes forms"),
    SelectChoice(Role.OWNER.value, "Owner: also manages users and settings"),
]


class NewUserForm(FlaskForm):
    display_name = StringField("Name", validators=[Length(max=100)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.EDITOR.value)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class InviteUserForm(FlaskForm):
    display_name = StringField("Name", validators=[Length(max=100)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.EDITOR.value)


class TwoStepPolicyForm(FlaskForm):
    policy = RadioField(
        "Who must use two-step verification",
        description="People the rule covers set it up at their next sign-in, before anything else.",
        choices=[SelectChoice(policy.value, label) for policy, label in POLICY_LABELS.items()],
        validate_choice=False,  # two_step_policy.set_policy says what is wrong
    )
