"""Malformed input refused before any view sees it, the same way on every blueprint.

Ids in addresses go through ``IdConverter`` (``<int:...>``, the ids of Integer columns, up to
2**31 - 1) or ``BigIdConverter`` (``<bigid:...>``, submissions' and deliveries' BigInteger ids,
up to 2**63 - 1): ASCII digits only, and ``refuse_ids_out_of_range`` answers 404 for a number
the column cannot hold, so no view meets one that overflows a database parameter (PostgreSQL
refuses to compare 2**31 with an integer column). The check runs as a hook rather than in the
converter: a converter's refusal would end routing with the router's bare 404, and the hook's
404 gets the blueprint's own shape (the API's JSON, the public page) and its rate-limit
accounting. ``refuse_malformed_address`` and ``refuse_malformed_form`` answer 400 when the
path, the query string, a header or a form field (name, value or file name) carries a NUL
character, which PostgreSQL refuses in text.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator

from flask import Flask
from flask import abort
from flask import request
from werkzeug.routing import BaseConverter

from app.models.types import MAX_BIG_ID
from app.models.types import MAX_ID

NUL = "\x00"
FORM_MIMETYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
NUL_REFUSED = "The request may not contain NUL characters."
# What IdConverter gives for digits naming no possible id; refuse_ids_out_of_range answers 404.
OUT_OF_RANGE = 0


class IdConverter(BaseConverter):
    """``<int:...>``: ASCII digits only (``int()`` would read "٣" as 3), as an int; a number
    outside 1 to ``maximum`` becomes OUT_OF_RANGE."""

    regex = r"[0-9]+"
    part_isolating = True
    maximum = MAX_ID

    def to_python(self, value: str) -> int:
        return parse_id(value, self.maximum) or OUT_OF_RANGE

    def to_url(self, value: int) -> str:
        return str(int(value))


class BigIdConverter(IdConverter):
    """``<bigid:...>``: an id of a BigInteger column (submissions, deliveries)."""

    maximum = MAX_BIG_ID


class IndexConverter(BaseConverter):
    """``<index:...>``: a place in a short list (a page's rules), from 0 to ``MAX_INDEX``, in
    ASCII digits; anything else matches no route (404)."""

    regex = r"[0-9]{1,4}"
    part_isolating = True

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(int(value))


def parse_id(text: str, maximum: int = MAX_BIG_ID) -> int | None:
    """An id given in an address, a query string or a form field: None unless ASCII digits
    name a number from 1 to ``maximum``."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)):
        return None
    number = int(text)
    return number if 1 <= number <= maximum else None


def init_app(app: Flask) -> None:
    """Called before any blueprint is registered, since a route's converters are bound as it
    is added; the address is checked before the extensions' hooks run."""
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["bigid"] = BigIdConverter
    app.url_map.converters["index"] = IndexConverter
    app.before_request(refuse_malformed_address)


def init_after_extensions(app: Flask) -> None:
    """Called after the extensions are bound: the rate limiter counts (and refuses a flood
    of) these requests before their ids are judged or their bodies parsed here."""
    app.before_request(refuse_ids_out_of_range)
    app.before_request(refuse_malformed_form)


def refuse_ids_out_of_range() -> None:
    rule = request.url_rule
    if rule is None or not request.view_args:
        return
    for name, converter in rule._converters.items():
        if isinstance(converter, IdConverter) and request.view_args[name] == OUT_OF_RANGE:
            abort(404)


def refuse_malformed_address() -> None:
    if any(NUL in text for text in texts_of_address()):
        abort(400, description=NUL_REFUSED)


def refuse_malformed_form() -> None:
    # The API takes JSON bodies and checks them itself, under its own size limit.
    if request.mimetype not in FORM_MIMETYPES or request.blueprint == "api":
        return
    if any(NUL in text for text in texts_of_form()):
        abort(400, description=NUL_REFUSED)


def texts_of_address() -> Iterator[str]:
    """The path, the query string and the headers: what a client controls in any request."""
    yield request.path
    yield from _multi_dict_texts(request.args.lists())
    for name, value in request.headers.items():
        yield name
        yield value


def texts_of_form() -> Iterator[str]:
    """A form post's field names and values, and its uploaded files' names."""
    yield from _multi_dict_texts(request.form.lists())
    for name, uploads in request.files.lists():
        yield name
        yield from (upload.filename or "" for upload in uploads)


def _multi_dict_texts(pairs: Iterable[tuple[str, list[str]]]) -> Iterator[str]:
    for key, values in pairs:
        yield key
        yield from values
