"""The one JSON parser: size and nesting-depth limits (docs/security.md#input-handling).

Docs: docs/api.md#errors. Every JSON body the API reads goes through ``SafeJSONParser``
(``DEFAULT_PARSER_CLASSES``, also on the unauthenticated ``/auth/token/`` endpoints):

* at most ``GOVDESK_MAX_BODY_BYTES`` are read, whatever ``Content-Length`` says (a
  chunked body has none) — more is 413 ``payload_too_large``;
* nesting deeper than ``GOVDESK_JSON_MAX_DEPTH`` (objects and arrays) is 400
  ``malformed_json``, and so is anything Python's decoder cannot take (a depth near
  the interpreter's recursion limit used to be a 500 with a RecursionError per request);
* ``NaN``/``Infinity`` are refused as DRF does by default.

``loads(text)`` applies the same rules to JSON read from anywhere else (cursors).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from api.common.errors import ApiError

DEFAULT_MAX_DEPTH = 32


class MalformedJson(ValueError):
    pass


def max_depth() -> int:
    return int(getattr(settings, "GOVDESK_JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))


def depth_of(value: Any) -> int:
    """Nesting depth of a decoded value, without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            depth += 1
            stack.extend((v, depth) for v in item.values())
        elif isinstance(item, list):
            depth += 1
            stack.extend((v, depth) for v in item)
        deepest = max(deepest, depth)
    return deepest


def _refuse_constant(name: str) -> Any:
    raise MalformedJson(f"invalid constant {name}")


def loads(text: str | bytes, limit: int | None = None) -> Any:
    """``json.loads`` that raises ``MalformedJson`` (a ValueError) for bad, too-deep or
    non-finite input instead of RecursionError."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise MalformedJson("nested too deeply") from None
    if depth_of(value) > (limit or max_depth()):
        raise MalformedJson("nested too deeply")
    return value


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.GOVDESK_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise ApiError("payload_too_large", status_code=413)
        try:
            return loads(raw.decode(encoding))
        except (ValueError, UnicodeError) as exc:
            raise ParseError("malformed_json") from exc
