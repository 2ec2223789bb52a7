"""Which files a form may accept, and what a file's content says it is."""

from __future__ import annotations

import re
from dataclasses import dataclass

import filetype

FILE_KINDS = ("image", "pdf", "document", "spreadsheet", "text", "archive", "audio", "video")
KIND_NAMES = {
    "image": "images",
    "pdf": "PDF",
    "document": "documents",
    "spreadsheet": "spreadsheets",
    "text": "text files",
    "archive": "archives",
    "audio": "audio",
    "video": "video",
}
# What a static-site form accepts until its editor says otherwise: no archives (they hide
# what they hold), no audio or video (large, and rarely what a form is for).
ENDPOINT_DEFAULT_KINDS = ("image", "pdf", "document", "spreadsheet", "text")
# Old Office files share this container header; filetype names only some of them.
OLE2_HEADER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
BINARY_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# Text that a browser would run or render as a document (HTML, SVG, XML): sniffed as "markup",
# which no format accepts, so it is kept under no name (evil.txt, or a name without extension).
MARKUP_START = re.compile(
    rb"\s*<(\?xml|!doctype|!--|html|head|body|svg|script|iframe|object|embed|meta|a\s|img\s)",
    re.IGNORECASE,
)
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class FileFormat:
    """A file name extension, the kinds it belongs to and what its content may be sniffed as."""

    kinds: frozenset[str]
    content_type: str
    sniffed_as: frozenset[str]


def _format(kinds: str, content_type: str, *sniffed_as: str) -> FileFormat:
    return FileFormat(frozenset(kinds.split()), content_type, frozenset(sniffed_as))


OOXML = "application/vnd.openxmlformats-officedocument"
OPEN_DOCUMENT = "application/vnd.oasis.opendocument"
# Office and OpenDocument files are ZIP files; the sniffer names only some of them, so a
# plain ZIP is let through for those extensions rather than refusing real documents.
FORMATS: dict[str, FileFormat] = {
    "jpg": _format("image", "image/jpeg", "jpg"),
    "jpeg": _format("image", "image/jpeg", "jpg"),
    "png": _format("image", "image/png", "png", "apng"),
    "gif": _format("image", "image/gif", "gif"),
    "webp": _format("image", "image/webp", "webp"),
    "bmp": _format("image", "image/bmp", "bmp"),
    "tif": _format("image", "image/tiff", "tif"),
    "tiff": _format("image", "image/tiff", "tif"),
    "heic": _format("image", "image/heic", "heic"),
    "heif": _format("image", "image/heif", "heic"),
    "avif": _format("image", "image/avif", "avif"),
    "pdf": _format("pdf", "application/pdf", "pdf"),
    "doc": _format("document", "application/msword", "doc", "ole2"),
    "docx": _format("document", f"{OOXML}.wordprocessingml.document", "docx", "zip"),
    "odt": _format("document", f"{OPEN_DOCUMENT}.text", "odt", "zip"),
    "rtf": _format("document", "application/rtf", "rtf"),
    "ppt": _format("document", "application/vnd.ms-powerpoint", "ppt", "ole2"),
    "pptx": _format("document", f"{OOXML}.presentationml.presentation", "pptx", "zip"),
    "odp": _format("document", f"{OPEN_DOCUMENT}.presentation", "odp", "zip"),
    "xls": _format("spreadsheet", "application/vnd.ms-excel", "xls", "ole2"),
    "xlsx": _format("spreadsheet", f"{OOXML}.spreadsheetml.sheet", "xlsx", "zip"),
    "ods": _format("spreadsheet", f"{OPEN_DOCUMENT}.spreadsheet", "ods", "zip"),
    "csv": _format("spreadsheet text", "text/csv", "text"),
    "tsv": _format("spreadsheet text", "text/tab-separated-values", "text"),
    "txt": _format("text", "text/plain", "text"),
    "md": _format("text", "text/markdown", "text"),
    "zip": _format("archive", "application/zip", "zip"),
    "gz": _format("archive", "application/gzip", "gz"),
    "tgz": _format("archive", "application/gzip", "gz"),
    "tar": _format("archive", "application/x-tar", "tar"),
    "7z": _format("archive", "application/x-7z-compressed", "7z"),
    "rar": _format("archive", "application/vnd.rar", "rar"),
    "mp3": _format("audio", "audio/mpeg", "mp3"),
    "wav": _format("audio", "audio/wav", "wav"),
    "ogg": _format("audio", "audio/ogg", "ogg"),
    "oga": _format("audio", "audio/ogg", "ogg"),
    "flac": _format("audio", "audio/flac", "flac"),
    "m4a": _format("audio", "audio/mp4", "m4a", "mp4"),
    "aac": _format("audio", "audio/aac", "aac"),
    "mp4": _format("video", "video/mp4", "mp4", "m4v"),
    "m4v": _format("video", "video/x-m4v", "m4v", "mp4"),
    "mov": _format("video", "video/quicktime", "mov", "mp4"),
    "webm": _format("video", "video/webm", "webm", "mkv"),
    "mkv": _format("video", "video/x-matroska", "mkv", "webm"),
    "avi": _format("video", "video/x-msvideo", "avi"),
    "mpeg": _format("video", "video/mpeg", "mpg"),
    "mpg": _format("video", "video/mpeg", "mpg"),
}


def sniff(data: bytes) -> str | None:
    """What the content is: a filetype name like "png", "ole2", "text", "markup", or None."""
    guess = filetype.guess(data)
    if guess is not None:
        return str(guess.extension)
    if data.startswith(OLE2_HEADER):
        return "ole2"
    if not looks_like_text(data):
        return None
    return "markup" if MARKUP_START.match(data.removeprefix(UTF8_BOM)[:1024]) else "text"


def looks_like_text(data: bytes) -> bool:
    """No control bytes, and readable as UTF-8 or as Windows-1252 (what Excel saves CSV in)."""
    if BINARY_BYTES.search(data):
        return False
    for encoding in ("utf-8", "cp1252"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return True
    return False


def extensions_for(kinds: list[str]) -> list[str]:
    """The file name extensions a field accepting ``kinds`` takes."""
    return [name for name, file_format in FORMATS.items() if file_format.kinds & set(kinds)]


def describe_kinds(kinds: list[str]) -> str:
    """``"images, PDF or documents"``: the kinds in words."""
    names = [KIND_NAMES[kind] for kind in kinds]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
