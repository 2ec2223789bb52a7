"""Every field type by name. A new type is a class in this folder, listed here."""

from __future__ import annotations

from app.fields.base import FieldType
from app.fields.choice import Dropdown
from app.fields.choice import MultipleChoice
from app.fields.choice import SingleChoice
from app.fields.consent import Consent
from app.fields.dates import Date
from app.fields.dates import Time
from app.fields.number import Number
from app.fields.rating import Rating
from app.fields.section import PageBreak
from app.fields.section import Section
from app.fields.text import Email
from app.fields.text import Hidden
from app.fields.text import LongText
from app.fields.text import Phone
from app.fields.text import ShortText
from app.fields.text import Url
from app.fields.upload import FileUpload

# In the order the builder's palette lists them.
FIELD_TYPES: dict[str, FieldType] = {
    field_type.name: field_type
    for field_type in (
        ShortText(),
        LongText(),
        Email(),
        Number(),
        Phone(),
        Url(),
        Date(),
        Time(),
        SingleChoice(),
        Dropdown(),
        MultipleChoice(),
        Consent(),
        Rating(),
        FileUpload(),
        Hidden(),
        Section(),
        PageBreak(),
    )
}


def get_field_type(name: str) -> FieldType:
    """The field type called ``name``; ``KeyError`` for an unknown name."""
    try:
        return FIELD_TYPES[name]
    except KeyError:
        raise KeyError(f"Unknown field type {name!r}.") from None


# Types whose answers are values from a list: filtered by value, counted per value.
CHOICE_TYPES = frozenset({SingleChoice.name, Dropdown.name, MultipleChoice.name})
