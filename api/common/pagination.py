"""Cursor pagination for every list endpoint (stable under inserts, O(1) per page).

Docs: docs/api.md#pagination.
"""

from __future__ import annotations

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"
