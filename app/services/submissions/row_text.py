"""Rows as the database hands them over fastest, for code that reads every row of a form
(exports, rollup rebuilds): JSON as its text, decoded here by orjson, and times as UTC text,
instead of objects that SQLAlchemy would build one row at a time; and, for exports, read
straight from the driver (``raw_batches``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice
from typing import Any
from typing import Literal

import orjson
from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import Text
from sqlalchemy import cast
from sqlalchemy import func
from sqlalchemy import type_coerce

from app.database import is_postgresql
from app.extensions import db

# How long the UTC text of a time is: "YYYY-MM-DD HH" or "YYYY-MM-DD HH:MM:SS".
UTC_TEXT = {"hour": ("YYYY-MM-DD HH24", 13), "second": ("YYYY-MM-DD HH24:MI:SS", 19)}


def json_text(column: Any) -> ColumnElement[str]:
    """A JSON column as its text."""
    return cast(column, Text) if is_postgresql() else type_coerce(column, Text)


def utc_text(column: Any, unit: Literal["hour", "second"]) -> ColumnElement[str]:
    """A stored time as UTC text, to the hour or the second (truncated, as isoformat does)."""
    pattern, length = UTC_TEXT[unit]
    if is_postgresql():
        return func.to_char(func.timezone("UTC", column), pattern)
    # SQLite keeps times as "YYYY-MM-DD HH:MM:SS.ffffff" in UTC.
    return func.substr(column, 1, length)


def decode_json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        # Integers beyond 64 bits, lone surrogates: the standard library reads those too.
        return json.loads(text)


def raw_batches(query: Select, size: int) -> Iterator[list[tuple]]:
    """The rows of ``query`` in lists of ``size``, as tuples straight from the database driver,
    in the session's transaction. SQLAlchemy compiles the statement and its parameters as it
    would run them; the rows skip its result machinery, so the columns must be ones the driver
    returns as they are (numbers, text). On PostgreSQL the rows stream in as the server makes
    them (libpq's chunked rows), so it works while the previous batch is written out, where a
    server-side cursor would wait for each FETCH. Stopping early ends the query, and on
    PostgreSQL with it the transaction: use it last."""
    connection = db.session.connection()
    dialect = connection.dialect
    compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    parameters = compiled.construct_params()
    for name, value in parameters.items():
        process = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            parameters[name] = process(value)
    cursor = connection.connection.driver_connection.cursor()
    try:
        if is_postgresql(dialect):
            rows = cursor.stream(compiled.string, parameters, size=size)
            while batch := list(islice(rows, size)):
                yield batch
            return
        cursor.execute(compiled.string, [parameters[name] for name in compiled.positiontup])
        while batch := cursor.fetchmany(size):
            yield batch
    finally:
        cursor.close()
