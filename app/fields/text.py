"""Typed-in answers: short and long text, email, phone, web address and hidden values."""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from typing import ClassVar
from urllib.parse import urlsplit

from email_validator import EmailNotValidError
from email_validator import validate_email
from wtforms.fields import EmailField
from wtforms.fields import HiddenField
from wtforms.fields import TelField
from wtforms.fields import TextAreaField
from wtforms.fields import URLField

from app.fields.base import FieldType
from app.fields.inputs import RuleInput
from app.fields.rules import RuleReader
from app.fields.spec import FieldSpec
from app.fields.validators import ErrorCode
from app.fields.validators import InvalidAnswer

# C0 and C1 controls but tab and newline: invisible, and PostgreSQL's jsonb refuses NUL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
PHONE_CHARACTERS = re.compile(r"\+?[0-9 ().\-]+")
HOST_NAME = re.compile(r"[\w-]+(\.[\w-]+)*\.?|[0-9a-f:.]+")
MAX_PATTERN_CHARS = 200
MAX_URL_CHARS = 2000
MAX_HIDDEN_CHARS = 500


def clean_text(data: Any, *, multiline: bool) -> str:
    """Posted text in NFC, with unified newlines, no control characters, trimmed."""
    text = unicodedata.normalize("NFC", str(data)).replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        text = text.replace("\n", " ").replace("\t", " ")
    return CONTROL_CHARACTERS.sub("", text).strip()


class TextLike(FieldType):
    """A type whose answer is typed text; blank after cleaning means no answer."""

    multiline: ClassVar[bool] = False

    def is_empty(self, data: Any) -> bool:
        return data is None or not clean_text(data, multiline=self.multiline)


class ShortText(TextLike):
    name = "short_text"
    title = "Short answer"
    default_max_length: ClassVar[int] = 500
    max_max_length: ClassVar[int] = 5000
    rule_inputs = (
        RuleInput("min_length", "Fewest characters", "integer"),
        RuleInput("max_length", "Most characters", "integer"),
        RuleInput(
            "pattern",
            "Pattern",
            "text",
            help="Optional: a regular expression that the whole answer must match.",
        ),
        RuleInput("pattern_message", "Message when the pattern does not match", "text"),
    )

    def check_rules(self, rules: RuleReader) -> dict[str, Any]:
        rules.allow_only("min_length", "max_length", "pattern", "pattern_message")
        high = self.max_max_length
        max_length = rules.integer("max_length", default=self.default_max_length, low=1, high=high)
        min_length = rules.integer("min_length", default=0, low=0, high=high)
        rules.ordered("min_length", "max_length", min_length, max_length)
        return {
            "min_length": min_length,
            "max_length": max_length,
            "pattern": check_pattern(rules),
            "pattern_message": rules.text("pattern_message", max_chars=200),
        }

    def render_kw(self, spec: FieldSpec) -> dict[str, Any]:
        # No HTML pattern: browsers read it as a JavaScript regex, which may differ from Python's.
        render_kw = super().render_kw(spec) | {"maxlength": spec.rules["max_length"]}
        if spec.rules["min_length"]:
            render_kw["minlength"] = spec.rules["min_length"]
        return render_kw

    def clean(self, data: Any, spec: FieldSpec) -> str:
        text = clean_text(data, multiline=self.multiline)
        check_length(text, spec.rules["min_length"], spec.rules["max_length"])
        pattern = spec.rules["pattern"]
        if pattern and not re.fullmatch(pattern, text):
            message = spec.rules["pattern_message"] or "Please use the requested format."
            raise InvalidAnswer(ErrorCode.TYPE_TEXT, message)
        return text


class LongText(ShortText):
    name = "long_text"
    title = "Paragraph"
    multiline = True
    default_max_length = 10_000
    max_max_length = 50_000
    field_class = TextAreaField


def check_pattern(rules: RuleReader) -> str:
    """The rule ``pattern``: a Python regex that must compile; empty when absent."""
    pattern = rules.rules.get("pattern")
    if pattern is None or pattern == "":
        return ""
    if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN_CHARS:
        rules.fail("pattern", f"pattern must be text of at most {MAX_PATTERN_CHARS} characters.")
    try:
        re.compile(pattern)
    except re.error as error:
        rules.fail("pattern", f"pattern is not a valid regular expression ({error}).")
    return pattern


def check_length(text: str, min_length: int, max_length: int) -> None:
    """Raise ``InvalidAnswer`` when ``text`` is shorter or longer than allowed."""
    if len(text) < min_length:
        message = f"Use at least {min_length} characters (you used {len(text)})."
        raise InvalidAnswer(ErrorCode.TYPE_TEXT, message)
    if len(text) > max_length:
        message = f"Use at most {max_length} characters (you used {len(text)})."
        raise InvalidAnswer(ErrorCode.TYPE_TEXT, message)


class Email(TextLike):
    name = "email"
    title = "Email"
    field_class = EmailField

    def clean(self, data: Any, spec: FieldSpec) -> str:
        address = clean_text(data, multiline=False)
        try:
            return validate_email(address, check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise InvalidAnswer(ErrorCode.TYPE_EMAIL, str(error)) from None


class Phone(TextLike):
    name = "phone"
    title = "Phone number"
    field_class = TelField

    def clean(self, data: Any, spec: FieldSpec) -> str:
        # NFKC turns full-width digits and plus signs into ASCII ones.
        number = " ".join(unicodedata.normalize("NFKC", str(data)).split())
        if not PHONE_CHARACTERS.fullmatch(number):
            message = "Use only digits, spaces and + ( ) - . in a phone number."
            raise InvalidAnswer(ErrorCode.TYPE_PHONE, message)
        digits = sum(character.isdigit() for character in number)
        if not 6 <= digits <= 20:
            raise InvalidAnswer(ErrorCode.TYPE_PHONE, "A phone number has 6 to 20 digits.")
        return number


class Url(TextLike):
    name = "url"
    title = "Web address"
    field_class = URLField

    def clean(self, data: Any, spec: FieldSpec) -> str:
        address = clean_text(data, multiline=False)
        if not is_web_address(address):
            message = "Enter a full web address starting with https:// or http://."
            raise InvalidAnswer(ErrorCode.TYPE_URL, message)
        return address


def is_web_address(address: str) -> bool:
    """An http(s) URL with a host name, no spaces and no user name in it."""
    if len(address) > MAX_URL_CHARS or any(character.isspace() for character in address):
        return False
    try:
        parts = urlsplit(address)
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError:
        return False
    # A user name makes "https://bank.example@evil.example" look like the bank's address.
    if parts.scheme.lower() not in ("http", "https") or parts.username is not None:
        return False
    return bool(parts.hostname) and HOST_NAME.fullmatch(parts.hostname) is not None


class Hidden(TextLike):
    name = "hidden"
    title = "Hidden value"
    requirable = False
    summary_kind = None
    field_class = HiddenField
    takes_placeholder = False

    def render_kw(self, spec: FieldSpec) -> dict[str, Any]:
        return {}

    def prefill_data(self, values: list[str], spec: FieldSpec) -> Any:
        # The person cannot see or fix a hidden value, so a long one is cut, not refused.
        return values[0][:MAX_HIDDEN_CHARS]

    def clean(self, data: Any, spec: FieldSpec) -> str:
        text = clean_text(data, multiline=False)
        check_length(text, 0, MAX_HIDDEN_CHARS)
        return text
