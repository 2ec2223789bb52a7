"""Summary rollups: what the summary page shows, counted per form and UTC day as it happens."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from app.extensions import db

# The pseudo-field of the submissions themselves: its values are the UTC hours "00" to "23".
# Field keys start with a letter, and endpoint forms drop posted names starting with "_".
HOURS_KEY = "_hours"
# The value of a question's row that counts its answers (any value that is not empty).
ANSWERED = ""
MAX_VALUE_CHARS = 500


class SummaryRollup(db.Model):
    """One counter of one form's counted submissions (not spam, not in the trash) on one UTC
    day: the submissions of an hour, a question's answers, or the answers with one value.

    A value is an answer as JSON (``"s"``, ``true``) for choices, consent and ratings, or a
    number's fine bucket (the number rounded to three significant digits), which keeps the
    sum, the smallest and the largest number it holds. Kept current by services.inbox.rollups.
    """

    __tablename__ = "summary_rollups"
    # SQLite keeps the rows in the key's order: a period's counters are read in one pass.
    __table_args__ = {"sqlite_with_rowid": False}

    form_id: Mapped[int] = mapped_column(
        ForeignKey("forms.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    field_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(MAX_VALUE_CHARS), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    total: Mapped[float] = mapped_column(Float, default=0.0)
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
