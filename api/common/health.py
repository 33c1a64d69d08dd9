"""``GET /api/v1/health/``: database and broker reachability (docs/operations.md#health).

Open to any allowed network without a token, so load balancers and the demo
launcher can poll it; it reveals no versions or hostnames.
"""

from __future__ import annotations

import time

from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


def check_database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "latency_ms": round((time.monotonic() - started) * 1000, 1)}


def check_broker() -> dict:
    from api.celery import app

    started = time.monotonic()
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "latency_ms": round((time.monotonic() - started) * 1000, 1)}


_component = inline_serializer(
    "HealthComponent",
    fields={
        "ok": serializers.BooleanField(),
        "latency_ms": serializers.FloatField(required=False),
        "error": serializers.CharField(required=False),
    },
)


class HealthView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="health",
        responses={
            200: inline_serializer(
                "Health",
                fields={
                    "status": serializers.ChoiceField(choices=["ok", "degraded"]),
                    "database": _component,
                    "broker": _component,
                },
            ),
            503: inline_serializer(
                "HealthDegraded",
                fields={
                    "status": serializers.ChoiceField(choices=["ok", "degraded"]),
                    "database": _component,
                    "broker": _component,
                },
            ),
        },
        auth=[],
    )
    def get(self, request):
        database = check_database()
        broker = check_broker()
        ok = database["ok"] and broker["ok"]
        body = {"status": "ok" if ok else "degraded", "database": database, "broker": broker}
        return Response(body, status=200 if ok else 503)
