"""The field-type registry, without a database or an app: specs, forms, answers, exports."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib

import pytest
import wtforms
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.datastructures import FileStorage
from werkzeug.datastructures import MultiDict

from app.exceptions import ValidationFailed
from app.fields import FIELD_TYPES
from app.fields import ExportContext
from app.fields import FieldError
from app.fields import FieldSpec
from app.fields import UploadedFile
from app.fields import answer_csv_cell
from app.fields import answer_json_value
from app.fields import answers_from
from app.fields import build_form_class
from app.fields import collect_errors
from app.fields import display_answer
from app.fields import get_field_type
from app.fields import needs_multipart
from app.fields import parse_field_specs
from app.fields import prefill_data
from app.fields import suggest_key
from app.fields.base import FieldType
from tests.form_helpers import make_form
from tests.public_helpers import TOKEN_RE
from tests.public_helpers import fetch_submissions

# --- helpers -------------------------------------------------------------------------------


def field(type_: str, key: str = "answer", label: str = "Answer", **settings) -> dict:
    return {"key": key, "type": type_, "label": label, **settings}


def submit(specs: list[FieldSpec], data: dict | None = None, files: dict | None = None):
    form_class = build_form_class(specs)
    formdata = MultiDict(data or {})
    if files is not None:
        formdata = CombinedMultiDict([formdata, MultiDict(files)])
    form = form_class(formdata)
    form.validate()
    return form


def answer_one(definition: dict, posted) -> object:
    """The stored answer for ``posted``; fails the test when the answer is refused."""
    specs = parse_field_specs([definition])
    form = submit(specs, *posted_data(definition, posted))
    assert collect_errors(form) == []
    return answers_from(form, specs)["answer"]


def codes_for(definition: dict, posted) -> list[str]:
    specs = parse_field_specs([definition])
    form = submit(specs, *posted_data(definition, posted))
    return [error.code for error in collect_errors(form)]


def posted_data(definition: dict, posted) -> tuple[dict, dict | None]:
    if definition["type"] == "file":
        return {}, {"answer": posted} if posted is not None else {}
    if posted is None:
        return {}, None
    return {"answer": posted}, None


def fullwidth(text: str) -> str:
    """``text`` in the full-width forms East Asian keyboards type."""
    return text.translate({code: code + 0xFEE0 for code in range(0x21, 0x7F)})


def upload(data: bytes, filename: str) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=filename, content_type="application/octet-stream")


def png_bytes() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


PNG = png_bytes()
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
CONTEXT = ExportContext(
    file_url=lambda reference: f"https://forms.example/files/{reference['file_id']}"
)

CHOICES = [{"value": "s", "label": "Small"}, "Large", {"value": "xl"}]
ABC = ["a", "b", "c"]


# --- spec parsing --------------------------------------------------------------------------


def test_parse_fills_in_defaults_and_keeps_reserved_settings():
    raw = field("short_text", label="  Your name  ", show_if={"field": "x"}, page=2)

    (spec,) = parse_field_specs([raw])

    assert spec.label == "Your name"
    assert spec.rules == {"min_length": 0, "max_length": 500, "pattern": "", "pattern_message": ""}
    assert spec.show_if == {"field": "x"}
    assert spec.page == 2
    assert FieldSpec.from_dict(spec.to_dict()) == spec


def test_parse_expands_choice_shorthand():
    (spec,) = parse_field_specs([field("single_choice", rules={"choices": CHOICES})])

    assert spec.rules["choices"] == [
        {"value": "s", "label": "Small"},
        {"value": "Large", "label": "Large"},
        {"value": "xl", "label": "xl"},
    ]


@pytest.mark.parametrize(
    ("raw", "default"),
    [
        (field("email", default="Ada@Example.COM"), "Ada@example.com"),
        (field("number", default="5", rules={"kind": "integer"}), 5),
        (field("multiple_choice", default="b", rules={"choices": ABC}), ["b"]),
        (field("rating", default=4), 4),
        (field("consent", default=False), None),
        (field("short_text", default="   "), None),
        (field("hidden", default="newsletter"), "newsletter"),
    ],
)
def test_parse_stores_default_in_answer_form(raw, default):
    (spec,) = parse_field_specs([raw])

    assert spec.default == default


def test_hidden_and_section_are_never_required():
    specs = parse_field_specs(
        [field("hidden", required=True), field("section", key="intro", required=True)]
    )

    assert [spec.required for spec in specs] == [False, False]


GOOD = field("short_text", key="good")


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ("not a list", "fields"),
        ([GOOD] * 300, "fields"),
        (["short_text"], "fields[0]"),
        ([GOOD, field("email", key="good")], "fields[1].key"),
        ([field("short_text", key="Email")], "fields[0].key"),
        ([field("short_text", key="1st")], "fields[0].key"),
        ([field("short_text", key="with-dash")], "fields[0].key"),
        ([field("short_text", key="a" * 64)], "fields[0].key"),
        ([field("short_text", key="")], "fields[0].key"),
        ([field("short_text", key=None)], "fields[0].key"),
        ([field("short_text", key="data")], "fields[0].key"),
        ([field("short_text", key="csrf_token")], "fields[0].key"),
        ([field("short_text", key="meta")], "fields[0].key"),
        ([field("short_text", key="form_errors")], "fields[0].key"),
        ([GOOD, field("colour_picker")], "fields[1].type"),
        ([field(None)], "fields[0].type"),
        ([field("short_text", label="   ")], "fields[0].label"),
        ([field("short_text", label="x" * 501)], "fields[0].label"),
        ([field("short_text", help="x" * 2001)], "fields[0].help"),
        ([field("short_text", placeholder=5)], "fields[0].placeholder"),
        ([field("short_text", colour="red")], "fields[0].colour"),
        ([field("short_text", required="yes")], "fields[0].required"),
        ([field("short_text", page=-1)], "fields[0].page"),
        ([field("short_text", page=True)], "fields[0].page"),
        ([field("short_text", show_if="always")], "fields[0].show_if"),
        ([field("short_text", rules=["max_length"])], "fields[0].rules"),
        ([field("short_text", rules={"max_lenght": 5})], "fields[0].rules.max_lenght"),
        ([field("short_text", rules={"max_length": 0})], "fields[0].rules.max_length"),
        ([field("short_text", rules={"max_length": 5001})], "fields[0].rules.max_length"),
        ([field("short_text", rules={"max_length": "10"})], "fields[0].rules.max_length"),
        ([field("short_text", rules={"max_length": True})], "fields[0].rules.max_length"),
        ([field("long_text", rules={"max_length": 50001})], "fields[0].rules.max_length"),
        (
            [field("short_text", rules={"min_length": 9, "max_length": 3})],
            "fields[0].rules.min_length",
        ),
        ([field("short_text", rules={"pattern": "(unclosed"})], "fields[0].rules.pattern"),
        ([field("short_text", rules={"pattern": "a" * 201})], "fields[0].rules.pattern"),
        ([field("short_text", rules={"pattern_message": 7})], "fields[0].rules.pattern_message"),
        ([field("email", rules={"max_length": 9})], "fields[0].rules.max_length"),
        ([field("number", rules={"kind": "float"})], "fields[0].rules.kind"),
        ([field("number", rules={"min": 5, "max": 1})], "fields[0].rules.min"),
        ([field("number", rules={"step": 0})], "fields[0].rules.step"),
        ([field("number", rules={"kind": "integer", "min": 1.5})], "fields[0].rules.min"),
        ([field("number", rules={"max": float("nan")})], "fields[0].rules.max"),
        ([field("number", rules={"max": float("inf")})], "fields[0].rules.max"),
        ([field("number", default="lots")], "fields[0].default"),
        ([field("number", default=200, rules={"max": 100})], "fields[0].default"),
        ([field("date", rules={"min": "2024-02-30"})], "fields[0].rules.min"),
        ([field("date", rules={"min": "2024-06-01", "max": "2024-01-01"})], "fields[0].rules.min"),
        ([field("single_choice")], "fields[0].rules.choices"),
        ([field("dropdown", rules={"choices": []})], "fields[0].rules.choices"),
        (
            [field("single_choice", rules={"choices": ["a", "a"]})],
            "fields[0].rules.choices[1].value",
        ),
        ([field("single_choice", rules={"choices": [" "]})], "fields[0].rules.choices[0].value"),
        ([field("single_choice", rules={"choices": [5]})], "fields[0].rules.choices[0]"),
        (
            [field("single_choice", rules={"choices": [{"value": "a", "colour": "red"}]})],
            "fields[0].rules.choices[0]",
        ),
        (
            [field("single_choice", rules={"choices": [{"value": "a", "label": 3}]})],
            "fields[0].rules.choices[0].label",
        ),
        ([field("single_choice", default="z", rules={"choices": ABC})], "fields[0].default"),
        (
            [field("multiple_choice", rules={"choices": ABC, "min_picks": 0})],
            "fields[0].rules.min_picks",
        ),
        (
            [field("multiple_choice", rules={"choices": ABC, "max_picks": 4})],
            "fields[0].rules.max_picks",
        ),
        (
            [field("multiple_choice", rules={"choices": ABC, "min_picks": 3, "max_picks": 2})],
            "fields[0].rules.min_picks",
        ),
        ([field("consent", rules={"style": "toggle"})], "fields[0].rules.style"),
        ([field("consent", default=True)], "fields[0].default"),
        ([field("rating", rules={"scale": "ten"})], "fields[0].rules.scale"),
        ([field("rating", default=9)], "fields[0].default"),
        ([field("file", rules={"accept": ["exe"]})], "fields[0].rules.accept"),
        ([field("file", rules={"accept": []})], "fields[0].rules.accept"),
        ([field("file", rules={"accept": ["pdf", "pdf"]})], "fields[0].rules.accept"),
        ([field("file", rules={"max_size_mb": 26})], "fields[0].rules.max_size_mb"),
        ([field("file", rules={"max_size_mb": 0})], "fields[0].rules.max_size_mb"),
        ([field("file", default="cv.pdf")], "fields[0].default"),
        ([field("hidden", default="x" * 501)], "fields[0].default"),
        ([field("section", default="x")], "fields[0].default"),
        ([field("section", rules={"level": 2})], "fields[0].rules.level"),
    ],
)
def test_parse_rejects_bad_specs_at_their_path(raw, path):
    with pytest.raises(ValidationFailed) as caught:
        parse_field_specs(raw)

    assert caught.value.field == path
    assert caught.value.field_errors == {path: [caught.value.message]}


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        (field("short_text", label="Your email", rules={"max_length": -1}), 'Field "Your email"'),
        (field("short_text", label="", key="your_email"), 'Field "your_email"'),
        ({"type": "short_text", "label": ""}, "Field 1"),
    ],
)
def test_parse_messages_name_the_field(raw, named):
    with pytest.raises(ValidationFailed) as caught:
        parse_field_specs([raw])

    assert caught.value.message.startswith(named)


@pytest.mark.parametrize(
    ("label", "taken", "key"),
    [
        ("Your email", set(), "your_email"),
        ("Your email", {"your_email"}, "your_email_2"),
        ("Your email", {"your_email", "your_email_2"}, "your_email_3"),
        ("  Ünïcödé  ñame! ", set(), "unicode_name"),
        ("簡歷", set(), "field"),
        ("簡歷", {"field"}, "field_2"),
        ("123 go", set(), "field_123_go"),
        ("Data", set(), "data_2"),
        ("", set(), "field"),
    ],
)
def test_suggest_key(label, taken, key):
    assert suggest_key(label, taken) == key


def test_suggest_key_stays_valid_for_long_labels():
    long_label = "word " * 40
    first = suggest_key(long_label, set())

    second = suggest_key(long_label, {first})

    assert len(first) <= 63
    assert len(second) <= 63
    assert second.endswith("_2")
    parse_field_specs([field("short_text", key=first), field("short_text", key=second)])


# --- answers, type by type -----------------------------------------------------------------

SHORT = field("short_text", rules={"min_length": 3, "max_length": 5})
PATTERN = field(
    "short_text", rules={"pattern": "[A-Z]{2}[0-9]{4}", "pattern_message": "Like AB1234."}
)
INTEGER = field("number", rules={"kind": "integer", "min": 0, "max": 130})
DECIMAL = field("number", rules={"kind": "decimal"})
HALVES = field("number", rules={"kind": "decimal", "step": 0.5})
TENTHS = field("number", rules={"kind": "decimal", "step": 0.1})
WHOLE_BY_DEFAULT = field("number")
ODD = field("number", rules={"kind": "integer", "min": 1, "step": 2})
DATE = field("date")
YEAR_2024 = field("date", rules={"min": "2024-01-01", "max": "2024-12-31"})
RADIO = field("single_choice", rules={"choices": CHOICES})
DROPDOWN = field("dropdown", rules={"choices": CHOICES})
CHECKBOXES = field("multiple_choice", rules={"choices": ABC})
TWO_PICKS = field("multiple_choice", rules={"choices": ABC, "min_picks": 2, "max_picks": 2})
UP_TO_TWO = field("multiple_choice", rules={"choices": ABC, "max_picks": 2})
TICK = field("consent")
YES_NO = field("consent", rules={"style": "yes_no"})
STARS = field("rating")
NPS = field("rating", rules={"scale": "nps"})


@pytest.mark.parametrize(
    ("definition", "posted", "stored"),
    [
        (field("short_text"), "hello", "hello"),
        (field("short_text"), "  padded  ", "padded"),
        (field("short_text"), "naïve café 🚀", "naïve café 🚀"),
        (field("short_text"), "cafe\u0301", "caf\u00e9"),
        (field("short_text"), "a\x00b\x1bc", "abc"),
        (field("short_text"), "two\nlines", "two lines"),
        (field("short_text"), "x" * 500, "x" * 500),
        (SHORT, "abc", "abc"),
        (SHORT, "abcde", "abcde"),
        (SHORT, "日本語です", "日本語です"),
        (PATTERN, "AB1234", "AB1234"),
        (field("long_text"), "line 1\r\nline 2\n", "line 1\nline 2"),
        (field("long_text"), "x" * 10_000, "x" * 10_000),
        (field("email"), "Ada@Example.COM", "Ada@example.com"),
        (field("email"), "  bob@example.org ", "bob@example.org"),
        (field("email"), "josé@example.com", "josé@example.com"),
        (INTEGER, "42", 42),
        (INTEGER, " +7 ", 7),
        (INTEGER, fullwidth("07"), 7),
        (INTEGER, "0", 0),
        (INTEGER, "130", 130),
        (DECIMAL, "3.5", 3.5),
        (DECIMAL, "-0.25", -0.25),
        (DECIMAL, ".5", 0.5),
        (DECIMAL, "1e3", 1000.0),
        (DECIMAL, "7", 7.0),
        (HALVES, "2.5", 2.5),
        (TENTHS, "0.3", 0.3),
        (ODD, "5", 5),
        (field("phone"), "+44 20 7946 0958", "+44 20 7946 0958"),
        (field("phone"), "(555) 123-4567", "(555) 123-4567"),
        (field("phone"), "555.123.4567", "555.123.4567"),
        (field("phone"), "  +1   555  1234567 ", "+1 555 1234567"),
        (field("phone"), fullwidth("+81 3 1234 5678"), "+81 3 1234 5678"),
        (field("phone"), "123456", "123456"),
        (field("url"), "https://example.com", "https://example.com"),
        (field("url"), "http://example.com/a?q=1#top", "http://example.com/a?q=1#top"),
        (field("url"), "HTTPS://bücher.example/", "HTTPS://bücher.example/"),
        (field("url"), "http://[2001:db8::1]:8080/", "http://[2001:db8::1]:8080/"),
        (DATE, "2024-02-29", "2024-02-29"),
        (YEAR_2024, "2024-01-01", "2024-01-01"),
        (YEAR_2024, "2024-12-31", "2024-12-31"),
        (field("time"), "09:30", "09:30"),
        (field("time"), "9:05", "09:05"),
        (field("time"), "23:59:30", "23:59"),
        (field("time"), "00:00", "00:00"),
        (RADIO, "s", "s"),
        (RADIO, " Large ", "Large"),
        (DROPDOWN, "xl", "xl"),
        (CHECKBOXES, ["a", "c"], ["a", "c"]),
        (CHECKBOXES, ["c", "a", "c"], ["a", "c"]),
        (TWO_PICKS, ["b", "a"], ["a", "b"]),
        (UP_TO_TWO, ["b"], ["b"]),
        (TICK, "y", True),
        (TICK, None, False),
        (YES_NO, "yes", True),
        (YES_NO, "no", False),
        (YES_NO, None, None),
        (STARS, "1", 1),
        (STARS, "5", 5),
        (NPS, "0", 0),
        (NPS, "10", 10),
        (field("hidden"), "newsletter", "newsletter"),
        (field("hidden"), "x" * 500, "x" * 500),
        (field("hidden", required=True), None, None),
        (field("short_text"), "   ", None),
        (field("short_text"), None, None),
        (field("number"), "", None),
        (DATE, "", None),
        (DROPDOWN, "", None),
        (CHECKBOXES, None, None),
        (STARS, None, None),
        (field("file"), None, None),
        (field("file"), upload(b"", ""), None),
    ],
)
def test_good_answers_are_stored(definition, posted, stored):
    assert answer_one(definition, posted) == stored


@pytest.mark.parametrize(
    ("definition", "posted", "code"),
    [
        (field("short_text", required=True), None, "REQUIRED_FIELD_MISSING"),
        (field("short_text", required=True), " \t\n ", "REQUIRED_FIELD_MISSING"),
        (field("short_text", required=True), "\x00", "REQUIRED_FIELD_MISSING"),
        (SHORT, "ab", "TYPE_TEXT"),
        (SHORT, "abcdef", "TYPE_TEXT"),
        (SHORT, "日本語です!", "TYPE_TEXT"),
        (field("short_text"), "x" * 501, "TYPE_TEXT"),
        (PATTERN, "ab1234", "TYPE_TEXT"),
        (PATTERN, "XAB1234", "TYPE_TEXT"),
        (field("long_text"), "x" * 10_001, "TYPE_TEXT"),
        (field("email", required=True), "", "REQUIRED_FIELD_MISSING"),
        (field("email"), "not-an-email", "TYPE_EMAIL"),
        (field("email"), "a@b", "TYPE_EMAIL"),
        (field("email"), "a@@example.com", "TYPE_EMAIL"),
        (field("email"), "a b@example.com", "TYPE_EMAIL"),
        (INTEGER, "abc", "TYPE_NUMERIC"),
        (INTEGER, "4.5", "TYPE_NUMERIC"),
        (INTEGER, "131", "OUT_OF_RANGE"),
        (INTEGER, "-1", "OUT_OF_RANGE"),
        (WHOLE_BY_DEFAULT, "2.5", "TYPE_NUMERIC"),
        (DECIMAL, "NaN", "TYPE_NUMERIC"),
        (DECIMAL, "inf", "TYPE_NUMERIC"),
        (DECIMAL, "-Infinity", "TYPE_NUMERIC"),
        (DECIMAL, "1,5", "TYPE_NUMERIC"),
        (DECIMAL, "0.1+0.2", "TYPE_NUMERIC"),
        (DECIMAL, "1e400", "OUT_OF_RANGE"),
        (DECIMAL, "9" * 41, "TYPE_NUMERIC"),
        (HALVES, "2.3", "TYPE_NUMERIC"),
        (TENTHS, "0.35", "TYPE_NUMERIC"),
        (ODD, "4", "TYPE_NUMERIC"),
        (field("number", required=True), "  ", "REQUIRED_FIELD_MISSING"),
        (field("phone"), "12345", "TYPE_PHONE"),
        (field("phone"), "1" * 21, "TYPE_PHONE"),
        (field("phone"), "call me", "TYPE_PHONE"),
        (field("phone"), "+1 555 12a4567", "TYPE_PHONE"),
        (field("phone"), "1+5551234567", "TYPE_PHONE"),
        (field("url"), "example.com", "TYPE_URL"),
        (field("url"), "ftp://example.com/file", "TYPE_URL"),
        (field("url"), "javascript:alert(1)", "TYPE_URL"),
        (field("url"), "https://", "TYPE_URL"),
        (field("url"), "https://exa mple.com", "TYPE_URL"),
        (field("url"), "https://bank.example@evil.example", "TYPE_URL"),
        (field("url"), "http://example.com:99999/", "TYPE_URL"),
        (DATE, "2023-02-29", "TYPE_DATE"),
        (DATE, "29/02/2024", "TYPE_DATE"),
        (DATE, "20240229", "TYPE_DATE"),
        (DATE, "2024-W09-4", "TYPE_DATE"),
        (YEAR_2024, "2023-12-31", "OUT_OF_RANGE"),
        (YEAR_2024, "2025-01-01", "OUT_OF_RANGE"),
        (field("time"), "24:00", "TYPE_TIME"),
        (field("time"), "12:60", "TYPE_TIME"),
        (field("time"), "noon", "TYPE_TIME"),
        (field("time"), "12.30", "TYPE_TIME"),
        (RADIO, "Small", "INVALID_CHOICE"),
        (RADIO, "medium", "INVALID_CHOICE"),
        (
            field("dropdown", required=True, rules={"choices": CHOICES}),
            "",
            "REQUIRED_FIELD_MISSING",
        ),
        (DROPDOWN, "<script>", "INVALID_CHOICE"),
        (CHECKBOXES, ["a", "zzz"], "INVALID_CHOICE"),
        (TWO_PICKS, ["a"], "OUT_OF_RANGE"),
        (TWO_PICKS, ABC, "OUT_OF_RANGE"),
        (UP_TO_TWO, ABC, "OUT_OF_RANGE"),
        (
            field("multiple_choice", required=True, rules={"choices": ABC}),
            None,
            "REQUIRED_FIELD_MISSING",
        ),
        (field("consent", required=True), None, "REQUIRED_FIELD_MISSING"),
        (field("consent", required=True), "false", "REQUIRED_FIELD_MISSING"),
        (
            field("consent", required=True, rules={"style": "yes_no"}),
            None,
            "REQUIRED_FIELD_MISSING",
        ),
        (YES_NO, "maybe", "INVALID_CHOICE"),
        (STARS, "0", "INVALID_CHOICE"),
        (STARS, "6", "INVALID_CHOICE"),
        (STARS, "4.0", "INVALID_CHOICE"),
        (NPS, "11", "INVALID_CHOICE"),
        (NPS, "-1", "INVALID_CHOICE"),
        (field("rating", required=True), None, "REQUIRED_FIELD_MISSING"),
        (field("hidden"), "x" * 501, "TYPE_TEXT"),
    ],
)
def test_bad_answers_are_refused_with_a_code(definition, posted, code):
    assert codes_for(definition, posted) == [code]


# --- files ---------------------------------------------------------------------------------

ANY_FILE = field("file")
IMAGES = field("file", rules={"accept": ["image"]})
TINY = field("file", rules={"max_size_mb": 0.001})


@pytest.mark.parametrize(
    ("definition", "data", "filename", "name", "content_type"),
    [
        (IMAGES, PNG, "photo.png", "photo.png", "image/png"),
        (IMAGES, PNG, "Photo.PNG", "Photo.png", "image/png"),
        (IMAGES, JPEG, "holiday.jpeg", "holiday.jpeg", "image/jpeg"),
        (IMAGES, PNG, "image", "image.png", "image/png"),
        (ANY_FILE, PDF, "cv.pdf", "cv.pdf", "application/pdf"),
        (ANY_FILE, b"hello\nworld\n", "notes.txt", "notes.txt", "text/plain"),
        (ANY_FILE, "name;city\ncafé;Zürich\n".encode("cp1252"), "data.csv", "data.csv", "text/csv"),
        (
            ANY_FILE,
            docx_bytes(),
            "report.docx",
            "report.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            ANY_FILE,
            PDF,
            "C:\\fakepath\\../../etc/Résumé final!.PDF",
            "Résumé final.pdf",
            "application/pdf",
        ),
        (ANY_FILE, PDF, "...pdf", "upload.pdf", "application/pdf"),
        (TINY, b"x" * 1048, "exactly.txt", "exactly.txt", "text/plain"),
    ],
)
def test_good_files_are_kept_with_a_safe_name(definition, data, filename, name, content_type):
    stored = answer_one(definition, upload(data, filename))

    assert stored == UploadedFile(name, content_type, len(data), data)


@pytest.mark.parametrize(
    ("definition", "data", "filename", "code"),
    [
        (IMAGES, b"just some text", "photo.png", "FILE_TYPE_NOT_ALLOWED"),
        (ANY_FILE, PNG, "notes.txt", "FILE_TYPE_NOT_ALLOWED"),
        (ANY_FILE, PDF, "photo.jpg", "FILE_TYPE_NOT_ALLOWED"),
        (ANY_FILE, docx_bytes(), "sheet.xlsx", "FILE_TYPE_NOT_ALLOWED"),
        (IMAGES, PDF, "cv.pdf", "FILE_TYPE_NOT_ALLOWED"),
        (ANY_FILE, EXE, "setup.exe", "FILE_TYPE_NOT_ALLOWED"),
        (ANY_FILE, EXE, "invoice.pdf.exe", "FILE_TYPE_NOT_ALLOWED"),
        (ANY_FILE, EXE, "invoice", "FILE_TYPE_NOT_ALLOWED"),
        (ANY_FILE, b"<svg onload=alert(1)>", "logo.svg", "FILE_TYPE_NOT_ALLOWED"),
        (ANY_FILE, b"", "empty.txt", "FILE_TYPE_NOT_ALLOWED"),
        (TINY, b"x" * 1049, "big.txt", "FILES_TOO_BIG"),
        (field("file", required=True), b"", "", "REQUIRED_FIELD_MISSING"),
    ],
)
def test_bad_files_are_refused(definition, data, filename, code):
    assert codes_for(definition, upload(data, filename)) == [code]


def test_oversize_file_is_not_read_whole():
    stream = io.BytesIO(b"x" * (11 * 1024 * 1024))
    specs = parse_field_specs([ANY_FILE])

    form = submit(specs, files={"answer": FileStorage(stream, filename="big.txt")})

    assert [error.code for error in collect_errors(form)] == ["FILES_TOO_BIG"]
    assert stream.tell() == 10 * 1024 * 1024 + 1


def test_uploaded_file_repr_leaves_out_the_bytes():
    assert "data" not in repr(UploadedFile("a.txt", "text/plain", 3, b"abc"))


# --- building forms ------------------------------------------------------------------------

FORM_SPECS = parse_field_specs(
    [
        field("section", key="intro", label="About you", help="Tell us a little."),
        field("short_text", key="name", label="Your name", required=True, placeholder="Ada"),
        field("email", key="email", label="Email", help="We reply here."),
        field("number", key="age", label="Age", default=30, rules={"kind": "integer", "min": 0}),
        field(
            "multiple_choice", key="topics", label="Topics", default=["b"], rules={"choices": ABC}
        ),
        field("rating", key="score", label="Score", required=True),
        field("consent", key="agree", label="I agree", required=True),
        field("hidden", key="source", label="Source", default="site"),
    ]
)


def test_build_form_class_returns_a_fresh_plain_form_each_call():
    first = build_form_class(FORM_SPECS)
    second = build_form_class(FORM_SPECS[:2])

    assert first is not second
    assert issubclass(first, wtforms.Form)
    assert [f.name for f in first()] == [
        "name",
        "email",
        "age",
        "topics",
        "score",
        "agree",
        "source",
    ]
    assert [f.name for f in second()] == ["name"]
    assert "csrf_token" not in first()._fields


def test_forms_of_one_class_share_no_answers_or_errors():
    form_class = build_form_class(FORM_SPECS)
    good = {"name": "Ada", "email": "ada@example.com", "score": "4", "agree": "y"}

    refused = form_class(MultiDict({"email": "nope", "topics": ["z"]}))
    refused.validate()
    accepted = form_class(MultiDict(good))
    accepted.validate()
    untouched = form_class()

    assert [error.key for error in collect_errors(refused)] == [
        "name",
        "email",
        "topics",
        "score",
        "agree",
    ]
    assert collect_errors(accepted) == []
    assert answers_from(accepted, FORM_SPECS)["email"] == "ada@example.com"
    assert refused.email.data == "nope" and accepted.email.data == "ada@example.com"
    assert untouched.email.data is None and untouched.email.errors == ()
    assert untouched.topics.data == ["b"] and 'value="site"' in untouched.source()
    assert all(field._form is accepted for field in accepted)
    assert {id(field) for field in accepted}.isdisjoint(id(field) for field in refused)


def test_copied_fields_render_as_freshly_bound_ones():
    form_class = build_form_class(FORM_SPECS)
    posted = MultiDict({"name": "Ada <b>", "email": "nope", "topics": ["a", "c"], "score": "2"})
    form_class()  # its fields are kept to copy
    copied = form_class(posted)
    form_class._prototypes = {}  # every field bound by WTForms itself
    fresh = form_class(posted)
    copied.validate()
    fresh.validate()

    assert [(f.name, f(), f.label(), f.errors) for f in copied] == [
        (f.name, f(), f.label(), f.errors) for f in fresh
    ]


def test_a_prefixed_form_binds_its_own_field_names():
    form_class = build_form_class(FORM_SPECS)
    form_class()  # its fields are kept to copy
    form = form_class(prefix="preview-")

    assert [f.name for f in form][:2] == ["preview-name", "preview-email"]
    assert 'id="preview-name"' in form.name()


def test_built_fields_carry_label_help_placeholder_and_required():
    form = build_form_class(FORM_SPECS)()

    assert form.name.label.text == "Your name"
    assert form.email.description == "We reply here."
    assert 'placeholder="Ada"' in form.name()
    assert "required" in form.name()
    assert "required" not in form.email()
    assert form.score().count("required") == 5
    assert "required" not in form.topics()


def test_defaults_are_coerced_for_the_field():
    form = build_form_class(FORM_SPECS)()

    assert form.age.data == "30"
    assert form.topics.data == ["b"]
    assert form.agree.data is False
    assert 'value="site"' in form.source()


def test_prefill_takes_prefillable_fields_from_the_link():
    query = MultiDict(
        [("name", "Ada"), ("topics", "a"), ("topics", "c"), ("agree", "y"), ("source", "x" * 600)]
    )

    data = prefill_data(FORM_SPECS, query)
    form = build_form_class(FORM_SPECS)(data=data)

    assert data == {"name": "Ada", "topics": ["a", "c"], "source": "x" * 500}
    assert form.name.data == "Ada"
    assert form.topics.data == ["a", "c"]
    assert form.agree.data is False


def test_prefill_accepts_a_plain_mapping():
    assert prefill_data(FORM_SPECS, {"name": "Ada", "intro": "x"}) == {"name": "Ada"}


def test_multipart_is_needed_only_with_a_file_field():
    assert not needs_multipart(FORM_SPECS)
    assert needs_multipart(parse_field_specs([ANY_FILE]))


# --- validating forms ----------------------------------------------------------------------


def test_answers_from_a_valid_form():
    posted = {"name": " Ada ", "email": "", "age": "36", "score": "4", "agree": "y"}

    form = submit(FORM_SPECS, posted)

    assert collect_errors(form) == []
    assert answers_from(form, FORM_SPECS) == {
        "name": "Ada",
        "email": None,
        "age": 36,
        "topics": None,
        "score": 4,
        "agree": True,
        "source": "site",
    }


def test_collect_errors_in_form_order_with_codes():
    form = submit(FORM_SPECS, {"email": "nope", "age": "-3", "topics": ["z"]})

    errors = collect_errors(form)

    assert [(error.key, error.code) for error in errors] == [
        ("name", "REQUIRED_FIELD_MISSING"),
        ("email", "TYPE_EMAIL"),
        ("age", "OUT_OF_RANGE"),
        ("topics", "INVALID_CHOICE"),
        ("score", "REQUIRED_FIELD_MISSING"),
        ("agree", "REQUIRED_FIELD_MISSING"),
    ]
    assert errors[2].message == "Enter a number of at least 0."
    assert errors[0].to_dict() == {
        "field": "name",
        "code": "REQUIRED_FIELD_MISSING",
        "message": "This field is required.",
    }


def test_validating_twice_does_not_repeat_codes():
    form = submit(FORM_SPECS, {"email": "nope"})

    form.validate()

    assert [error.key for error in collect_errors(form)].count("email") == 1


def test_answers_from_refuses_an_unvalidated_form():
    form = build_form_class(FORM_SPECS)(MultiDict({"name": "Ada"}))

    with pytest.raises(ValueError, match="validate"):
        answers_from(form, FORM_SPECS)


def test_uncoded_errors_are_still_collected():
    form = submit(FORM_SPECS, {"score": "4", "agree": "y"})
    form.name.errors.append("Set by a caller.")

    assert collect_errors(form) == [
        FieldError("name", "REQUIRED_FIELD_MISSING", "This field is required."),
        FieldError("name", "INVALID", "Set by a caller."),
    ]


# --- display and export --------------------------------------------------------------------

REFERENCE = {"file_id": "f1", "name": "cv.pdf", "size": 123_456, "content_type": "application/pdf"}


@pytest.mark.parametrize(
    ("definition", "value", "shown", "cell", "json_value"),
    [
        (field("short_text"), "hello", "hello", "hello", "hello"),
        (field("short_text"), "=SUM(A1:A9)", "=SUM(A1:A9)", "'=SUM(A1:A9)", "=SUM(A1:A9)"),
        (field("long_text"), "@evil", "@evil", "'@evil", "@evil"),
        (
            field("email"),
            "ada@example.com",
            "ada@example.com",
            "ada@example.com",
            "ada@example.com",
        ),
        (INTEGER, 42, "42", "42", 42),
        (INTEGER, -3, "-3", "-3", -3),
        (DECIMAL, 2.0, "2", "2", 2.0),
        (DECIMAL, 2.5, "2.5", "2.5", 2.5),
        (
            field("phone"),
            "+44 20 7946 0958",
            "+44 20 7946 0958",
            "'+44 20 7946 0958",
            "+44 20 7946 0958",
        ),
        (
            field("url"),
            "https://example.com",
            "https://example.com",
            "https://example.com",
            "https://example.com",
        ),
        (DATE, "2024-02-29", "2024-02-29", "2024-02-29", "2024-02-29"),
        (field("time"), "09:30", "09:30", "09:30", "09:30"),
        (RADIO, "s", "Small", "Small", "s"),
        (DROPDOWN, "gone", "gone", "gone", "gone"),
        (CHECKBOXES, ["a", "c"], "a, c", "a; c", ["a", "c"]),
        (TICK, True, "Yes", "yes", True),
        (TICK, False, "No", "no", False),
        (YES_NO, False, "No", "no", False),
        (STARS, 3, "3 / 5", "3", 3),
        (NPS, 9, "9 / 10", "9", 9),
        (field("hidden"), "newsletter", "newsletter", "newsletter", "newsletter"),
        (
            ANY_FILE,
            REFERENCE,
            "cv.pdf (121 KB)",
            "https://forms.example/files/f1",
            {
                "name": "cv.pdf",
                "size": 123_456,
                "content_type": "application/pdf",
                "url": "https://forms.example/files/f1",
            },
        ),
        (field("short_text"), None, "", "", None),
    ],
)
def test_display_csv_and_json(definition, value, shown, cell, json_value):
    (spec,) = parse_field_specs([definition])

    assert display_answer(value, spec) == shown
    assert answer_csv_cell(value, spec, CONTEXT) == cell
    assert answer_json_value(value, spec, CONTEXT) == json_value


@pytest.mark.parametrize(
    ("value", "shown", "cell", "json_value"),
    [
        ("hello", "hello", "hello", "hello"),
        ("-1+2", "-1+2", "'-1+2", "-1+2"),
        (True, "Yes", "yes", True),
        (4.0, "4", "4", 4.0),
        (["a", "b"], "a, b", "a; b", ["a", "b"]),
        (
            REFERENCE,
            "cv.pdf (121 KB)",
            "https://forms.example/files/f1",
            answer_json_value(REFERENCE, parse_field_specs([ANY_FILE])[0], CONTEXT),
        ),
        ({"x": 1}, '{"x": 1}', '{"x": 1}', {"x": 1}),
    ],
)
def test_answers_of_removed_fields_still_show(value, shown, cell, json_value):
    assert display_answer(value, None) == shown
    assert answer_csv_cell(value, None, CONTEXT) == cell
    assert answer_json_value(value, None, CONTEXT) == json_value


def test_an_answer_that_no_longer_fits_its_spec_falls_back():
    (spec,) = parse_field_specs([STARS])

    assert display_answer("five", spec) == "five"
    assert display_answer(["a"], FieldSpec("gone", "retired_type", "Gone")) == "a"


# --- the registry --------------------------------------------------------------------------

SUMMARIES = {
    "short_text": "text",
    "long_text": "text",
    "email": "text",
    "phone": "text",
    "url": "text",
    "date": "text",
    "time": "text",
    "number": "numeric",
    "rating": "numeric",
    "single_choice": "choices",
    "dropdown": "choices",
    "multiple_choice": "choices",
    "consent": "choices",
    "file": None,
    "hidden": None,
    "section": None,
    "page": None,
}


def test_every_type_is_registered_under_its_name():
    assert set(FIELD_TYPES) == set(SUMMARIES)
    for name, field_type in FIELD_TYPES.items():
        assert field_type.name == name
        assert field_type.title
        assert get_field_type(name) is field_type
        assert field_type.summary_kind == SUMMARIES[name]


def test_nps_rating_is_summarised_as_nps():
    stars, nps = parse_field_specs([STARS, {**NPS, "key": "nps"}])

    assert get_field_type("rating").summary_for(stars) == "numeric"
    assert get_field_type("rating").summary_for(nps) == "nps"


def test_only_section_and_page_break_take_no_answer_and_are_not_prefilled_with_file_consent():
    assert [n for n, t in FIELD_TYPES.items() if not t.takes_answer] == ["section", "page"]
    assert {n for n, t in FIELD_TYPES.items() if not t.prefillable} == {
        "file",
        "section",
        "page",
        "consent",
    }


def test_section_builds_no_field():
    (spec,) = parse_field_specs([field("section")])

    assert get_field_type("section").build_field(spec) is None


def test_unknown_type_lookup_fails():
    with pytest.raises(KeyError):
        get_field_type("signature")


@pytest.mark.parametrize("name", sorted(FIELD_TYPES))
def test_every_type_that_takes_an_answer_cleans_it_itself(name):
    """The base class's clean only refuses: a new answerable type must bring its own."""
    field_type = FIELD_TYPES[name]
    owner = next(c for c in type(field_type).__mro__ if "clean" in vars(c))
    assert (owner is not FieldType) == field_type.takes_answer


# --- what the respondent sees before answering -------------------------------------------------

TOPICS = {"choices": ["art", "books", "cinema", "dance"]}


@pytest.mark.parametrize(
    ("limits", "hint"),
    [
        ({"max_picks": 2}, "Choose at most 2 options."),
        ({"max_picks": 1}, "Choose at most 1 option."),
        ({"min_picks": 2}, "Choose at least 2 options."),
        ({"min_picks": 2, "max_picks": 3}, "Choose 2 to 3 options."),
        ({"min_picks": 2, "max_picks": 2}, "Choose exactly 2 options."),
    ],
)
def test_a_checkbox_limit_is_said_in_the_help_before_submitting(app, client, limits, hint):
    spec = field("multiple_choice", key="topics", help="Pick what you like.", rules=TOPICS | limits)
    slug = make_form(app, [spec]).slug
    html = client.get(f"/f/{slug}").get_data(as_text=True)
    assert f'<small id="topics-help" class="field-help">Pick what you like. {hint}</small>' in html


def test_checkboxes_without_a_limit_keep_their_help_alone(app, client):
    spec = field("multiple_choice", key="topics", help="Pick what you like.", rules=TOPICS)
    html = client.get(f"/f/{make_form(app, [spec]).slug}").get_data(as_text=True)
    assert '<small id="topics-help" class="field-help">Pick what you like.</small>' in html


def test_a_stars_rating_is_a_row_of_star_radios_with_spoken_labels(app, client):
    specs = [
        field("rating", key="stars", label="How was it?"),
        field("rating", key="nps", label="Recommend us?", rules={"scale": "nps"}),
    ]
    slug = make_form(app, specs).slug
    html = client.get(f"/f/{slug}").get_data(as_text=True)
    stars = html[html.index('<fieldset id="stars"') : html.index('<fieldset id="nps"')]
    assert "<legend>How was it?</legend>" in stars
    assert '<div class="choices star-rating">' in stars
    assert stars.count('type="radio"') == 5 and stars.count('name="stars"') == 5
    assert '<span class="visually-hidden">4 of 5 stars</span>' in stars
    nps = html[html.index('<fieldset id="nps"') :]
    assert "star-rating" not in nps and "★" not in nps
    assert nps.count('type="radio"') == 11


def test_a_stars_rating_sent_without_javascript_is_stored_and_shown_again_on_error(app, client):
    specs = [
        field("rating", key="stars", label="How was it?"),
        field("short_text", key="name", label="Name", required=True),
    ]
    slug = make_form(app, specs).slug
    page = client.get(f"/f/{slug}").get_data(as_text=True)
    token = TOKEN_RE.search(page).group(1)
    again = client.post(f"/f/{slug}", data={"_token": token, "stars": "4"})
    assert again.status_code == 422
    chosen = [tag for tag in re.findall(r"<input[^>]*>", again.text) if "checked" in tag]
    assert len(chosen) == 1 and 'name="stars"' in chosen[0] and 'value="4"' in chosen[0]
    sent = client.post(f"/f/{slug}", data={"_token": token, "stars": "4", "name": "Ann"})
    assert sent.status_code in (302, 303)
    assert fetch_submissions(app, slug)[-1].answers["stars"] == 4
