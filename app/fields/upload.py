"""File uploads, checked by their content; storage (elsewhere) keeps them and stores a reference."""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from werkzeug.datastructures import FileStorage
from wtforms.fields import FileField

from app.fields.base import ExportContext
from app.fields.base import FieldType
from app.fields.filekinds import FILE_KINDS
from app.fields.filekinds import FORMATS
from app.fields.filekinds import KIND_NAMES
from app.fields.filekinds import FileFormat
from app.fields.filekinds import describe_kinds
from app.fields.filekinds import extensions_for
from app.fields.filekinds import sniff
from app.fields.inputs import RuleInput
from app.fields.rules import RuleReader
from app.fields.spec import FieldSpec
from app.fields.validators import ErrorCode
from app.fields.validators import InvalidAnswer

DEFAULT_MAX_SIZE_MB = 10
LARGEST_MAX_SIZE_MB = 25
MEGABYTE = 1024 * 1024
MAX_STEM_CHARS = 100
UNSAFE_NAME_CHARACTERS = re.compile(r"[^\w\-. ()]+")


@dataclass(frozen=True)
class UploadedFile:
    """An accepted upload; the storage service saves it and stores a reference dict instead."""

    filename: str
    content_type: str
    size: int
    data: bytes = field(repr=False)


class FileUpload(FieldType):
    name = "file"
    condition_kind = "file"
    title = "File upload"
    prefillable = False
    summary_kind = None
    takes_upload = True
    required_message = "Please choose a file."
    field_class = FileField
    rule_inputs = (
        RuleInput(
            "accept",
            "Accepted kinds of file",
            "checkboxes",
            options=tuple(
                (kind, KIND_NAMES[kind][0].upper() + KIND_NAMES[kind][1:]) for kind in FILE_KINDS
            ),
        ),
        RuleInput(
            "max_size_mb",
            "Largest file, in MB",
            "number",
            help=f"At most {LARGEST_MAX_SIZE_MB}.",
        ),
    )
    default_input = None
    takes_placeholder = False

    def check_rules(self, rules: RuleReader) -> dict[str, Any]:
        rules.allow_only("accept", "max_size_mb")
        return {"accept": check_accept(rules), "max_size_mb": check_max_size(rules)}

    def render_kw(self, spec: FieldSpec) -> dict[str, Any]:
        extensions = extensions_for(spec.rules["accept"])
        return {"accept": ",".join(f".{extension}" for extension in extensions)}

    def default_data(self, spec: FieldSpec) -> Any:
        return None

    def normalize_default(self, raw: Any, spec: FieldSpec) -> Any:
        raise ValueError("a file question cannot have a default answer.")

    def is_empty(self, data: Any) -> bool:
        return not isinstance(data, FileStorage) or not data.filename

    def clean(self, data: Any, spec: FieldSpec) -> UploadedFile:
        content = read_limited(data, spec.rules["max_size_mb"])
        if not content:
            raise InvalidAnswer(ErrorCode.FILE_TYPE_NOT_ALLOWED, "The file is empty.")
        extension = file_extension(data.filename or "")
        file_format, extension = check_format(extension, content, spec.rules["accept"])
        return UploadedFile(
            filename=safe_filename(data.filename or "", extension),
            content_type=file_format.content_type,
            size=len(content),
            data=content,
        )

    def display(self, value: Any, spec: FieldSpec) -> str:
        return display_file(value)

    def csv_cell(self, value: Any, spec: FieldSpec, context: ExportContext) -> str:
        return context.file_url(value)

    def json_value(self, value: Any, spec: FieldSpec, context: ExportContext) -> Any:
        return file_json(value, context)


def check_accept(rules: RuleReader) -> list[str]:
    """The rule ``accept``: kinds of file, every kind when absent; kept in a fixed order."""
    kinds = rules.rules.get("accept")
    if kinds is None:
        return list(FILE_KINDS)
    valid = isinstance(kinds, list) and kinds and all(kind in FILE_KINDS for kind in kinds)
    if not valid or len(set(kinds)) != len(kinds):
        rules.fail("accept", f"accept must list kinds of file from: {', '.join(FILE_KINDS)}.")
    return [kind for kind in FILE_KINDS if kind in kinds]


def check_max_size(rules: RuleReader) -> int | float:
    """The rule ``max_size_mb``: more than 0 and at most 25 megabytes, 10 when absent."""
    size = rules.rules.get("max_size_mb", DEFAULT_MAX_SIZE_MB)
    is_number = isinstance(size, int | float) and not isinstance(size, bool)
    if not is_number or not 0 < size <= LARGEST_MAX_SIZE_MB:
        rules.fail(
            "max_size_mb", f"max_size_mb must be more than 0 and at most {LARGEST_MAX_SIZE_MB}."
        )
    return size


def read_limited(upload: FileStorage, max_size_mb: float) -> bytes:
    """The upload's bytes, reading no more than one byte past the limit."""
    limit = int(max_size_mb * MEGABYTE)
    with contextlib.suppress(AttributeError, OSError):
        upload.stream.seek(0)
    content = upload.stream.read(limit + 1)
    if len(content) > limit:
        message = f"The file is larger than {max_size_mb:g} MB."
        raise InvalidAnswer(ErrorCode.FILES_TOO_BIG, message)
    return bytes(content)


def file_extension(filename: str) -> str:
    base = re.split(r"[/\\]", filename)[-1]
    return base.rsplit(".", 1)[1].lower() if "." in base else ""


def check_format(extension: str, content: bytes, accept: list[str]) -> tuple[FileFormat, str]:
    """The file's format, when its name is allowed here and its content agrees with the name."""
    sniffed = sniff(content)
    if not extension and sniffed and sniffed != "markup":
        # A name without extension (some phones send those): go by the content alone.
        extension = "txt" if sniffed == "text" else sniffed
    file_format = FORMATS.get(extension)
    if file_format is None or not file_format.kinds & set(accept):
        message = f"This type of file is not accepted here; please send {describe_kinds(accept)}."
        raise InvalidAnswer(ErrorCode.FILE_TYPE_NOT_ALLOWED, message)
    if sniffed not in file_format.sniffed_as:
        message = f"The file's content is not what its name (.{extension}) says."
        raise InvalidAnswer(ErrorCode.FILE_TYPE_NOT_ALLOWED, message)
    return file_format, extension


def safe_filename(filename: str, extension: str) -> str:
    """The base name without paths or odd characters, ending in ``.extension``."""
    base = unicodedata.normalize("NFC", re.split(r"[/\\]", filename)[-1])
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = " ".join(UNSAFE_NAME_CHARACTERS.sub("_", stem).split()).strip("._ ")
    return f"{stem[:MAX_STEM_CHARS] or 'upload'}.{extension}"


def is_file_reference(value: Any) -> bool:
    """Whether ``value`` is the reference dict the storage service keeps for a file."""
    return isinstance(value, Mapping) and "file_id" in value and "name" in value


def display_file(reference: Mapping[str, Any]) -> str:
    """``"cv.pdf (120 KB)"``."""
    return f"{reference['name']} ({format_size(int(reference.get('size') or 0))})"


def file_json(reference: Mapping[str, Any], context: ExportContext) -> dict[str, Any]:
    """A stored file in JSON exports and the API."""
    return {
        "name": reference["name"],
        "size": reference.get("size"),
        "content_type": reference.get("content_type"),
        "url": context.file_url(reference),
    }


def format_size(size: int) -> str:
    """``"512 bytes"``, ``"120 KB"``, ``"3.4 MB"``."""
    if size < 1024:
        return f"{size} bytes"
    if size < MEGABYTE:
        return f"{size / 1024:.0f} KB"
    return f"{size / MEGABYTE:.1f} MB"
