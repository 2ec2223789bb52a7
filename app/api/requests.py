"""Checks every API request gets before its view parses it: a JSON body of sane size, depth,
numbers and text. PostgreSQL refuses NUL in text, and neither database can store a lone UTF-16
surrogate (JSON's ``"\\ud800"``), so both answer 400 here (or 413) and the views and services
never meet them. NUL in the address is refused for the whole site (app/request_checks.py)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import current_app
from flask import request

from app.api.errors import ApiError

BODY_METHODS = {"POST", "PUT", "PATCH"}
MAX_JSON_DEPTH = 32
NUL = "\x00"
# Half of a UTF-16 pair on its own: valid JSON, but not text that can be stored or encoded.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def check_request() -> None:
    """A before_request hook, after the token is checked."""
    request.max_content_length = current_app.config["API_MAX_CONTENT_LENGTH"]
    if request.method in BODY_METHODS:
        check_json_body()


def check_json_body() -> None:
    data = request.get_data(cache=True)  # 413 when over API_MAX_CONTENT_LENGTH
    if not data:
        return
    if not request.is_json:
        raise ApiError(400, "Send JSON, with Content-Type: application/json.")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in {"utf-8", "utf8"}:
        raise ApiError(400, "Send JSON in UTF-8.")
    try:
        body = json.loads(data, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "The body is not valid JSON.") from None
    problem = _problem_in(body)
    if problem:
        raise ApiError(400, problem)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _problem_in(body: Any) -> str | None:
    """Why the parsed body cannot be taken, if it cannot: walked without recursion, since its
    depth is what is being checked."""
    pending: list[tuple[Any, int]] = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            return f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep."
        if isinstance(value, str):
            problem = _problem_in_text(value)
            if problem:
                return problem
        if isinstance(value, float) and not math.isfinite(value):
            return "Numbers must be finite (this one is too large)."
        if isinstance(value, dict):
            pending.extend((key, depth) for key in value)
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
    return None


def _problem_in_text(text: str) -> str | None:
    if NUL in text:
        return "Text may not contain the NUL character (\\u0000)."
    if LONE_SURROGATE.search(text):
        return "Text may not contain a lone UTF-16 surrogate (\\ud800 to \\udfff)."
    return None
