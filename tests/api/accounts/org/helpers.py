"""Helpers for the organisation tests."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.audit.models import AuditEvent


def events(action: str, result: str | None = None) -> list[AuditEvent]:
    queryset = AuditEvent.objects.filter(action=action)
    if result is not None:
        queryset = queryset.filter(result=result)
    return list(queryset.order_by("seq"))


def count_queries(call) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        result = call()
    return len(ctx.captured_queries), result


def error_code(response) -> str:
    return response.json()["error"]["code"]
