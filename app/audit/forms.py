from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import time
from datetime import timedelta

from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms import SelectField
from wtforms import StringField
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import ValidationError

from app.models import Form
from app.models import User
from app.services.audit import AuditFilter
from app.services.audit.reading import SYSTEM_ACTOR


class AuditFilterForm(FlaskForm):
    """The page's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    actor = SelectField("Who", default="")
    action = StringField(
        "Action",
        validators=[Optional(), Length(max=60)],
        description="A name like form.published, or its start with a dot: form.",
    )
    form_id = SelectField("Form", default="")
    since = DateField("From (UTC)", validators=[Optional()])
    until = DateField("Until (UTC, inclusive)", validators=[Optional()])

    def fill_choices(self, users: list[User], forms: list[Form]) -> None:
        self.actor.choices = [
            ("", "Anyone"),
            (SYSTEM_ACTOR, "The system"),
            *((str(user.id), user.email) for user in users),
        ]
        self.form_id.choices = [("", "Any form"), *((str(form.id), form.title) for form in forms)]

    def validate_until(self, field: DateField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("Choose a day on or after the first.")

    def chosen(self) -> AuditFilter:
        def start_of(day) -> datetime | None:
            return datetime.combine(day, time(), tzinfo=UTC) if day else None

        until = start_of(self.until.data)
        return AuditFilter(
            actor=self.actor.data or "",
            action=(self.action.data or "").strip(),
            form_id=int(self.form_id.data) if self.form_id.data else None,
            since=start_of(self.since.data),
            until=until + timedelta(days=1) if until else None,
        )
