"""``GET /api/v1/health/``: database and broker reachability (docs/operations.md#health).

Open to any allowed network without a token, so load balancers and the demo
launcher can poll it; it reveals no versions or hostnames.

``status`` (and the HTTP status, 200 or 503) depends on the database and the broker
only: the web tier can serve requests without a worker. ``worker`` additionally says
whether a Celery worker ran the beat heartbeat (``api.common.tasks.heartbeat``)
within the last three intervals; a missing worker shows as ``worker.ok = false``
without degrading the answer, so a load balancer keeps sending traffic to a healthy
web process while monitoring alerts on the worker.

``warnings`` lists what an operator should act on but that never degrades the answer
either, e.g. ``holiday_arrangement_missing`` (docs/workdays.md#yearly-arrangement).
Apps above this layer add their checks with ``register_warnings`` in their
``AppConfig.ready()``, and whole blocks of their own (``register_block``: a key of the
answer, the function that fills it, its schema field), e.g. ``integrations``
(docs/integrations.md#health). A block is informative too: it never degrades the answer.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api.common.datetimes import client_datetime

logger = logging.getLogger(__name__)

# name → a function returning [{code, message, ...}] (registered by apps in ready()).
_WARNINGS: dict[str, Callable[[], list[dict]]] = {}


def register_warnings(name: str, check: Callable[[], list[dict]]) -> None:
    _WARNINGS[name] = check


@dataclass(frozen=True)
class Block:
    check: Callable[[], Any]
    field: serializers.Field  # the block's schema, so the OpenAPI document tells the truth
    default: Any  # the value when the database is down or the check fails


# key → a block of the answer (registered by apps above in ready()).
_BLOCKS: dict[str, Block] = {}


def register_block(
    key: str, check: Callable[[], Any], field: serializers.Field, default: Any
) -> None:
    _BLOCKS[key] = Block(check, field, default)


def collect_blocks(database_ok: bool) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, block in _BLOCKS.items():
        if not database_ok:
            found[key] = block.default
            continue
        try:
            found[key] = block.check()
        except Exception:  # a broken block never breaks health
            logger.warning("health block %s failed", key, exc_info=True)
            found[key] = block.default
    return found


def collect_warnings() -> list[dict]:
    found: list[dict] = []
    for name, check in _WARNINGS.items():
        try:
            found.extend(check())
        except Exception:  # a broken check never breaks health
            logger.warning("health warning check %s failed", name, exc_info=True)
    return found


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


def check_worker() -> dict:
    from api.common.tasks import last_heartbeat, stale_after_seconds

    try:
        beat = last_heartbeat()
    except Exception as exc:
        return {"ok": False, "last_seen": None, "error": exc.__class__.__name__}
    last_seen = parse_datetime(beat["last_seen"]) if beat and beat.get("last_seen") else None
    if last_seen is None:
        return {"ok": False, "last_seen": None}
    age = (timezone.now() - last_seen).total_seconds()
    return {
        "ok": age <= stale_after_seconds(),
        "last_seen": client_datetime(last_seen),
        "age_seconds": round(max(age, 0.0), 1),
    }


class HealthWorkerSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    last_seen = serializers.DateTimeField(allow_null=True)
    age_seconds = serializers.FloatField(required=False)
    error = serializers.CharField(required=False)


class HealthComponentSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    latency_ms = serializers.FloatField(required=False)
    error = serializers.CharField(required=False)


class HealthWarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    year = serializers.IntegerField(required=False)


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "degraded"])
    database = HealthComponentSerializer()
    broker = HealthComponentSerializer()
    worker = HealthWorkerSerializer()
    warnings = HealthWarningSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        # The registered blocks, read when the schema is generated (after every ready()).
        for key, block in _BLOCKS.items():
            fields[key] = copy.deepcopy(block.field)
        return fields


class HealthDegradedSerializer(HealthSerializer):
    pass


class HealthView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="health",
        responses={200: HealthSerializer, 503: HealthDegradedSerializer},
        auth=[],
    )
    def get(self, request):
        database = check_database()
        broker = check_broker()
        ok = database["ok"] and broker["ok"]
        body = {
            "status": "ok" if ok else "degraded",
            "database": database,
            "broker": broker,
            "worker": check_worker(),  # informative: never degrades the status
            "warnings": collect_warnings() if database["ok"] else [],  # informative too
            **collect_blocks(database["ok"]),  # informative too
        }
        return Response(body, status=200 if ok else 503)
