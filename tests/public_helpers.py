"""Fields, pages and stored rows for the public-side tests; tests.form_helpers makes the forms.

Pages are read the way a browser reads them (elements by id, their attributes and text);
stored rows come back detached.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import undefer

from app.extensions import db
from app.models import EndpointKey
from app.models import Form
from app.models import FormVersion
from app.models import StoredFile
from app.models import Submission
from app.services import forms

SITE = "https://site.example"
OTHER_SITE = "https://other.example"
EVIL_SITE = "https://evil.example"
TOKEN_RE = re.compile(r'name="_token" value="([^"]*)"')

SIZES = [
    {"value": "s", "label": "Small"},
    {"value": "m", "label": "Medium"},
    {"value": "l", "label": "Large"},
]
# One field of every type in the registry, in the builder's order.
EVERY_FIELD: list[dict[str, Any]] = [
    {
        "key": "name",
        "type": "short_text",
        "label": "Your name",
        "required": True,
        "help": "As on your badge",
    },
    {"key": "bio", "type": "long_text", "label": "About you", "help": "A line or two"},
    {"key": "email", "type": "email", "label": "Email address", "required": True},
    {"key": "age", "type": "number", "label": "Age", "rules": {"kind": "integer", "max": 130}},
    {"key": "phone", "type": "phone", "label": "Phone"},
    {"key": "website", "type": "url", "label": "Website"},
    {"key": "birthday", "type": "date", "label": "Birthday"},
    {"key": "arrival", "type": "time", "label": "Arrival time"},
    {
        "key": "size",
        "type": "single_choice",
        "label": "T-shirt size",
        "required": True,
        "help": "Pick one",
        "rules": {"choices": SIZES},
    },
    {
        "key": "country",
        "type": "dropdown",
        "label": "Country",
        "rules": {
            "choices": [{"value": "fr", "label": "France"}, {"value": "de", "label": "Germany"}]
        },
    },
    {
        "key": "topics",
        "type": "multiple_choice",
        "label": "Topics",
        "rules": {"choices": [{"value": "art", "label": "Art"}, "books", "cinema"]},
    },
    {"key": "agree", "type": "consent", "label": "I agree to the terms", "required": True},
    {"key": "stars", "type": "rating", "label": "How was it?"},
    {"key": "photo", "type": "file", "label": "Photo", "rules": {"accept": ["image"]}},
    {"key": "source", "type": "hidden", "label": "Source"},
    {"key": "more", "type": "section", "label": "A little more", "help": "Optional questions"},
]
# The fewest answers EVERY_FIELD takes.
REQUIRED_ANSWERS = {"name": "Ann", "email": "ann@example.com", "size": "m", "agree": "y"}

CONTACT_FIELDS: list[dict[str, Any]] = [
    {"key": "name", "type": "short_text", "label": "Name", "required": True},
    {"key": "email", "type": "email", "label": "Email", "required": True},
    {"key": "message", "type": "long_text", "label": "Message"},
]
CONTACT_ANSWERS = {"name": "Ann", "email": "ann@example.com", "message": "Hello there"}


def png_bytes() -> bytes:
    """A real 1x1 PNG: signature, IHDR, IDAT and IEND with their CRCs."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = png_bytes()


# --- reading what was stored ---------------------------------------------------------------


def fetch_form(app, slug: str) -> Form:
    with app.app_context():
        form = forms.get_form_by_slug(slug)
        db.session.expunge(form)
        return form


def fetch_submissions(app, slug: str) -> list[Submission]:
    """The form's submissions, oldest first, detached for assertions."""
    with app.app_context():
        form = forms.get_form_by_slug(slug)
        query = select(Submission).where(Submission.form_id == form.id).order_by(Submission.id)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def fetch_version(app, version_id: int) -> FormVersion:
    with app.app_context():
        version = db.session.get(FormVersion, version_id)
        db.session.expunge(version)
        return version


def fetch_files(app, slug: str) -> list[StoredFile]:
    """The form's stored files with their bytes."""
    with app.app_context():
        form = forms.get_form_by_slug(slug)
        query = (
            select(StoredFile)
            .where(StoredFile.form_id == form.id)
            .options(undefer(StoredFile.data))
            .order_by(StoredFile.created_at)
        )
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def fetch_endpoint_keys(app, slug: str) -> list[str]:
    with app.app_context():
        form = forms.get_form_by_slug(slug)
        query = select(EndpointKey.key).where(EndpointKey.form_id == form.id)
        return sorted(db.session.scalars(query))


# --- reading pages -------------------------------------------------------------------------


def page_token(response) -> str:
    match = TOKEN_RE.search(response.get_data(as_text=True))
    assert match, "page has no _token"
    return match.group(1)


VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    children: list[Element | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The text inside, with runs of white space made single spaces."""
        return " ".join(self.raw_text.split())

    @property
    def raw_text(self) -> str:
        return "".join(
            child if isinstance(child, str) else child.raw_text for child in self.children
        )

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Elements below (and including) this one with ``tag`` and every attribute given;
        ``class_`` matches one class, ``None`` as a value asks only that the attribute exist."""
        return [element for element in self.iter() if element.matches(tag, attrs)]

    def find(self, tag: str | None = None, **attrs: str) -> Element | None:
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def matches(self, tag: str | None, attrs: dict[str, str]) -> bool:
        if tag is not None and self.tag != tag:
            return False
        for name, wanted in attrs.items():
            name = name.rstrip("_").replace("_", "-")
            if name not in self.attrs:
                return False
            if name == "class" and wanted is not None:
                if wanted not in (self.attrs["class"] or "").split():
                    return False
            elif wanted is not None and self.attrs[name] != wanted:
                return False
        return True

    def has(self, attribute: str) -> bool:
        return attribute in self.attrs


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs))
        self.stack[-1].children.append(element)
        if tag not in VOID_TAGS:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Element(tag, dict(attrs)))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse_page(response_or_html) -> Element:
    """The page as a tree of elements."""
    html = (
        response_or_html
        if isinstance(response_or_html, str)
        else response_or_html.get_data(as_text=True)
    )
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def by_id(page: Element, element_id: str) -> Element:
    found = page.find(id=element_id)
    assert found is not None, f"no element with id {element_id!r}"
    return found


def field_label(page: Element, key: str) -> str:
    """What a person reads as the question: a field's <label>, or a group's <legend>."""
    label = page.find("label", for_=key)
    if label is not None:
        return label.text
    group = by_id(page, key)
    assert group.tag == "fieldset", f"{key!r} has neither a label nor a fieldset"
    return group.find("legend").text


def field_value(page: Element, key: str) -> Any:
    """What the page shows as the answer to ``key``: text, the chosen value(s), a tick."""
    element = page.find(id=key)
    if element is None:  # hidden fields render with their name as id too
        element = page.find("input", name=key)
    if element.tag == "textarea":
        # Browsers drop the newline that follows <textarea>, as html.parser does not.
        return element.raw_text.removeprefix("\r\n").removeprefix("\n")
    if element.tag == "select":
        chosen = [option.attrs["value"] for option in element.find_all("option", selected=None)]
        return chosen[0] if len(chosen) == 1 else chosen or None
    if element.tag == "fieldset":
        boxes = element.find_all("input", name=key)
        chosen = [box.attrs["value"] for box in boxes if box.has("checked")]
        if boxes[0].attrs["type"] == "radio":
            return chosen[0] if chosen else None
        return chosen
    if element.attrs.get("type") == "checkbox":
        return element.has("checked")
    return element.attrs.get("value")


def csp_directives(response) -> dict[str, str]:
    """The Content-Security-Policy header as ``{directive: sources}``."""
    policy = response.headers["Content-Security-Policy"]
    directives = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {parts[0]: parts[1] if len(parts) > 1 else "" for parts in directives}
