"""Validators that record a Formspree-style error code on the field they fail."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING
from typing import Any
from typing import NoReturn

from wtforms import Form
from wtforms.fields import Field
from wtforms.validators import StopValidation

if TYPE_CHECKING:
    from app.fields.base import FieldType
    from app.fields.spec import FieldSpec

_ANSWER = "formyard_answer"
_NO_ANSWER = object()


class ErrorCode(StrEnum):
    REQUIRED_FIELD_MISSING = "REQUIRED_FIELD_MISSING"
    TYPE_EMAIL = "TYPE_EMAIL"
    TYPE_NUMERIC = "TYPE_NUMERIC"
    TYPE_URL = "TYPE_URL"
    TYPE_DATE = "TYPE_DATE"
    TYPE_TIME = "TYPE_TIME"
    TYPE_PHONE = "TYPE_PHONE"
    TYPE_TEXT = "TYPE_TEXT"
    INVALID_CHOICE = "INVALID_CHOICE"
    FILES_TOO_BIG = "FILES_TOO_BIG"
    FILE_TYPE_NOT_ALLOWED = "FILE_TYPE_NOT_ALLOWED"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    # Only for an error raised by something other than these validators.
    INVALID = "INVALID"


class InvalidAnswer(ValueError):
    """An answer a field type refuses; the validator turns it into a field error."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class FieldError:
    """One problem with one answer, for the page and for the API."""

    key: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """The API's shape: ``{"field", "code", "message"}``."""
        return {"field": self.key, "code": self.code, "message": self.message}


def fail(field: Field, code: ErrorCode, message: str) -> NoReturn:
    """Record ``code`` in ``field.error_codes`` (message to code) and stop with ``message``."""
    field.error_codes = {**getattr(field, "error_codes", {}), message: code}
    raise StopValidation(message)


def record_answer(field: Field, value: Any) -> None:
    """Keep the cleaned answer on the field for ``answers_from``."""
    setattr(field, _ANSWER, value)


def recorded_answer(field: Field) -> Any:
    """The cleaned answer a successful validation left on ``field``."""
    value = getattr(field, _ANSWER, _NO_ANSWER)
    if value is _NO_ANSWER:
        raise ValueError(f"{field.name!r} has no valid answer; validate the form first.")
    return value


class Presence:
    """First in every chain: handles an empty answer, which is an error only when required."""

    def __init__(self, field_type: FieldType, spec: FieldSpec) -> None:
        self.field_type = field_type
        self.spec = spec
        browser_required = spec.required and field_type.browser_required
        self.field_flags = {"required": True} if browser_required else {}

    def __call__(self, form: Form, field: Field) -> None:
        # A field may be validated twice; codes and answer must describe the last run only.
        field.error_codes = {}
        record_answer(field, _NO_ANSWER)
        if not self.field_type.is_empty(field.data):
            return
        if self.spec.required:
            message = self.field_type.required_message_for(self.spec)
            fail(field, ErrorCode.REQUIRED_FIELD_MISSING, message)
        field.errors[:] = []
        record_answer(field, self.field_type.empty_answer(self.spec))
        raise StopValidation()


class Answer:
    """Cleans a non-empty answer with its field type, keeping the result for ``answers_from``."""

    def __init__(self, field_type: FieldType, spec: FieldSpec) -> None:
        self.field_type = field_type
        self.spec = spec

    def __call__(self, form: Form, field: Field) -> None:
        try:
            value = self.field_type.clean(field.data, self.spec)
        except InvalidAnswer as error:
            fail(field, error.code, error.message)
        record_answer(field, value)


def collect_errors(form: Form) -> list[FieldError]:
    """Every field error of a validated form, in form order, each with its code."""
    found: list[FieldError] = []
    for field in form:
        codes = getattr(field, "error_codes", {})
        for message in field.errors:
            # An error added by other code than these validators has no code of its own.
            code = codes.get(message, ErrorCode.INVALID)
            found.append(FieldError(field.short_name, str(code), message))
    return found
