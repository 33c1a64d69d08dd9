"""Keyset (cursor) pagination over several ordering fields, for the task lists.

Docs: docs/mobile-api.md#order-and-pagination-of-the-task-lists. DRF's CursorPagination keys
the cursor on the *first* ordering field only and skips ties with an OFFSET; the to-do
list is ordered by urgency rank first (three values), so nearly every row would be a
tie and each page would cost O(rows before it). Here the cursor carries the whole
sort key of the last row — ``(urgency_rank, due_at, id)`` for the to-do list,
``(acted_at, id)`` for the done list — and the next page is a plain keyset ``WHERE``
that the ``task_todo_idx`` / ``task_done_idx`` indexes answer directly.

Ordering of the to-do list: most urgent first (urgency rank descending), then
``due_at`` ascending — overdue tasks (due in the past) therefore come before the
others of the same urgency — tasks without a deadline last, then ``id``.
Forward-only: a phone scrolls down; ``previous`` is always null.
A forged or malformed cursor is 404 ``not_found`` (like api.common.pagination).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import F, Q, QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from api.common.params import page_size_param

INVALID_CURSOR = "Invalid cursor"


@dataclass(frozen=True)
class KeyField:
    name: str
    descending: bool
    nullable: bool  # nulls sort last in both directions
    kind: str  # "int" | "datetime"


TODO_KEY = (
    KeyField("urgency_rank", descending=True, nullable=False, kind="int"),
    KeyField("due_at", descending=False, nullable=True, kind="datetime"),
    KeyField("id", descending=False, nullable=False, kind="int"),
)
DONE_KEY = (
    KeyField("acted_at", descending=True, nullable=True, kind="datetime"),
    KeyField("id", descending=True, nullable=False, kind="int"),
)


def _order_expressions(key: tuple[KeyField, ...]) -> list[Any]:
    # NULLS LAST only where a column can be null: an explicit clause on a NOT NULL
    # column would stop PostgreSQL from reading the order off task_todo_idx.
    out = []
    for field in key:
        expr = F(field.name)
        nulls = {"nulls_last": True} if field.nullable else {}
        out.append(expr.desc(**nulls) if field.descending else expr.asc(**nulls))
    return out


def _after(key: tuple[KeyField, ...], values: list[Any]) -> Q:
    """Rows strictly after ``values`` in the ordering ``key`` (nulls last)."""
    if not key:
        return Q(pk__in=[])  # equal on every field: not after
    head, rest = key[0], key[1:]
    value = values[0]
    if value is None:
        # We are in the null tail of this field: only ties (null) on it can follow.
        return Q(**{f"{head.name}__isnull": True}) & _after(rest, values[1:])
    beyond = Q(**{f"{head.name}__lt" if head.descending else f"{head.name}__gt": value})
    if head.nullable:
        beyond |= Q(**{f"{head.name}__isnull": True})
    if not rest:
        return beyond
    return beyond | (Q(**{head.name: value}) & _after(rest, values[1:]))


class KeysetPagination:
    """Forward-only keyset pagination; ``page_size`` 20 by default, at most 100."""

    page_size = 20
    max_page_size = 100
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    def __init__(self, key: tuple[KeyField, ...]) -> None:
        self.key = key
        self.next_values: list[Any] | None = None
        self.request: Request | None = None

    def get_page_size(self, request: Request) -> int:
        return page_size_param(
            request, self.page_size_query_param, default=self.page_size, maximum=self.max_page_size
        )

    def _decode(self, raw: str) -> list[Any]:
        try:
            values = json.loads(base64.urlsafe_b64decode(raw.encode("ascii")).decode())
        except (ValueError, UnicodeError, binascii.Error, RecursionError):
            raise NotFound(INVALID_CURSOR) from None
        if not isinstance(values, list) or len(values) != len(self.key):
            raise NotFound(INVALID_CURSOR)
        decoded: list[Any] = []
        for field, value in zip(self.key, values, strict=True):
            if value is None and field.nullable:
                decoded.append(None)
            elif field.kind == "int" and type(value) is int and 0 <= value < 2**63:
                decoded.append(value)
            elif field.kind == "datetime" and isinstance(value, str) and len(value) <= 40:
                try:
                    parsed = datetime.fromisoformat(value)
                except ValueError:
                    raise NotFound(INVALID_CURSOR) from None
                if parsed.tzinfo is None:
                    raise NotFound(INVALID_CURSOR)
                decoded.append(parsed)
            else:
                raise NotFound(INVALID_CURSOR)
        return decoded

    def _encode(self, values: list[Any]) -> str:
        plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
        return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode("ascii")

    def paginate_queryset(self, queryset: QuerySet, request: Request) -> list[Any]:
        self.request = request
        size = self.get_page_size(request)
        raw = request.query_params.get(self.cursor_query_param)
        queryset = queryset.order_by(*_order_expressions(self.key))
        if raw:
            queryset = queryset.filter(_after(self.key, self._decode(raw)))
        rows = list(queryset[: size + 1])
        page = rows[:size]
        if len(rows) > size:
            last = page[-1]
            self.next_values = [getattr(last, field.name) for field in self.key]
        return page

    def next_link(self) -> str | None:
        if self.next_values is None or self.request is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, self._encode(self.next_values))

    def get_paginated_response(self, data: list[Any]) -> Response:
        return Response({"next": self.next_link(), "previous": None, "results": data})

    @staticmethod
    def get_paginated_response_schema(schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }
