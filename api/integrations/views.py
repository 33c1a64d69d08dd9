"""API of the connector layer. Docs: docs/integrations.md#api.

* ``POST /api/v1/integrations/<name>/events/`` — the external system's signed webhook
  (no user token: the HMAC signature is the credential).
* ``GET /api/v1/integrations/`` — every connector's health, for the city IT admin.
* ``GET /api/v1/integrations/<name>/dead-letters/`` — a connector's dead letters.
* ``POST /api/v1/integrations/dead-letters/<id>/replay/`` — process a dead letter again.

The admin endpoints are the city IT admin's only: anyone else gets 403, audited (as the
other city-wide admin lists, e.g. the VPN agent credentials).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.models import User
from api.accounts.roles import is_city_it_admin
from api.audit.recorder import record, record_denied
from api.common.auth import current_user
from api.common.errors import ApiError, Conflict, Forbidden, NotFound
from api.common.i18n import Msg
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.parsers import loads
from api.common.schema import ERR_403, ERR_404, error_response, errors
from api.integrations import actions, registry, selectors
from api.integrations import serializers as s
from api.integrations.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER, WINDOW_SECONDS
from api.integrations.signatures import check as check_signature

TAGS = ["integrations"]
WEBHOOK_TAGS = ["integrations-webhooks"]
MAX_EVENTS = 1000

MESSAGES = {
    "signature_invalid": Msg("签名无效。", "The request signature is missing or does not match."),
    "timestamp_out_of_window": Msg(
        f"请求时间戳与服务器时间相差超过 {WINDOW_SECONDS} 秒。",
        f"The request timestamp is more than {WINDOW_SECONDS} seconds from the server's clock.",
    ),
    "signature_replayed": Msg(
        "该签名的请求已经收到过，不能重放。",
        "A request with this signature was already received; it cannot be replayed.",
    ),
    "events_invalid": Msg("事件格式有误。", "Some events are not valid."),
    "dead_letter_not_dead": Msg(
        "该记录不是死信（可能已被重放）。",
        "The record is not a dead letter (it may have been replayed already).",
    ),
}


def _admin_only(user: User, action: str, **detail: Any) -> None:
    if not is_city_it_admin(user):
        record_denied(action, actor=user, detail={"reason": "not_city_it_admin", **detail})
        raise Forbidden()


# --- webhooks --------------------------------------------------------------------------


def _refuse(name: str, reason: str, request: Request) -> None:
    record_denied(
        "integrations.webhook_refused",
        object_type="integrations.connector",
        object_id=name[:40],
        actor_username=f"integration:{name[:40]}",
        detail={"connector": name[:40], "reason": reason},
    )


def _storable(value: Any) -> bool:
    """No NUL and no lone surrogate in any key or string: neither can be stored in a
    PostgreSQL JSON column (both would be a 500 there)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return False
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


def _events(name: str, spec: registry.ConnectorSpec, raw: bytes) -> list[tuple[str, dict]]:
    """The body's events as (source id, event): one object, or ``{"events": [...]}``."""
    try:
        body = loads(raw.decode("utf-8"))
    except (UnicodeError, ValueError):
        raise ApiError("malformed_json") from None
    if not _storable(body):
        raise ApiError(
            "validation_error",
            fields={
                "body": [
                    Msg(
                        "不能包含 NUL 字符或孤立的代理字符。",
                        "Must not contain NUL characters or lone surrogates.",
                    )
                ]
            },
        )
    if not isinstance(body, dict):
        raise ApiError(
            "validation_error", fields={"body": [Msg("须为 JSON 对象。", "Must be a JSON object.")]}
        )
    if "events" in body:
        if set(body) != {"events"} or not isinstance(body["events"], list):
            raise ApiError(
                "validation_error",
                fields={
                    "events": [
                        Msg(
                            '须为 {"events": [事件…]}，不含其他字段。',
                            'Must be {"events": [event, …]} with no other field.',
                        )
                    ]
                },
            )
        items = body["events"]
    else:
        items = [body]
    if not 1 <= len(items) <= MAX_EVENTS:
        raise ApiError(
            "validation_error",
            fields={
                "events": [
                    Msg(f"须为 1–{MAX_EVENTS} 个事件。", f"Must hold 1–{MAX_EVENTS} events.")
                ]
            },
        )
    assert spec.source_id_of is not None
    found: list[tuple[str, dict]] = []
    problems: dict[str, list[Msg]] = {}
    for index, item in enumerate(items):
        where = f"events[{index}]"
        if not isinstance(item, dict):
            problems[where] = [Msg("须为 JSON 对象。", "Must be a JSON object.")]
            continue
        try:
            source_id = actions.check_source_id(spec.source_id_of(item))
        except Exception:  # the connector's reader of untrusted input: any failure is a 400
            problems[where] = [Msg("缺少有效的来源编号。", "The event has no valid source id.")]
            continue
        found.append((source_id, item))
    if problems:
        raise ApiError("validation_error", MESSAGES["events_invalid"], fields=problems)
    return found


class WebhookView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=WEBHOOK_TAGS,
        summary="Receive events from an external system (signed webhook)",
        operation_id="integrations_webhook",
        parameters=[
            OpenApiParameter(
                TIMESTAMP_HEADER,
                {"type": "string", "pattern": "^[0-9]{1,12}$"},
                location=OpenApiParameter.HEADER,
                required=True,
                description=f"unix seconds; refused when more than {WINDOW_SECONDS} s off",
            ),
            OpenApiParameter(
                SIGNATURE_HEADER,
                {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"},
                location=OpenApiParameter.HEADER,
                required=True,
                description='sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">',
            ),
        ],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            202: s.WebhookResultSerializer,
            400: error_response("malformed_json / validation_error"),
            401: error_response("signature_invalid / timestamp_out_of_window"),
            404: error_response("not_found: no connector of that name takes webhooks"),
            409: error_response("signature_replayed"),
        },
        auth=[],
    )
    def post(self, request: Request, name: str) -> Response:
        try:
            spec = registry.get(name)
        except KeyError:
            spec = None
        config = actions.config_of(name) if spec is not None else None
        if spec is None or spec.source_id_of is None or config is None or not config.configured:
            _refuse(name, "unknown_or_not_configured", request)
            raise NotFound()
        if request.content_type.split(";")[0].strip().lower() != "application/json":
            _refuse(name, "content_type", request)
            raise ApiError("unsupported_media_type", status_code=415)
        raw = request.body
        reason, signature = check_signature(config.secret, raw, request.headers)
        if reason:
            _refuse(name, reason, request)
            code = "timestamp_out_of_window" if reason in ("old", "future") else "signature_invalid"
            raise ApiError(code, MESSAGES[code], status_code=401)
        events = _events(name, spec, raw)
        try:
            received, new = actions.accept_webhook(name, signature, events, source_address=None)
        except actions.Replayed:
            _refuse(name, "replayed", request)
            raise Conflict("signature_replayed", MESSAGES["signature_replayed"]) from None
        return Response({"received": received, "new": new}, status=202)


# --- the city IT admin's view ----------------------------------------------------------


class ConnectorListView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Every connector's health (city IT admin)",
        operation_id="integrations_connectors_list",
        responses={200: s.ConnectorListSerializer, **errors(ERR_403)},
    )
    def get(self, request: Request) -> Response:
        _admin_only(current_user(request), "integrations.connectors_list")
        return Response({"results": selectors.connectors_health()})


class DeadLetterPagination(CursorPagination):
    page_size = 50
    ordering = "-id"


class DeadLetterListView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="A connector's dead letters, newest first (city IT admin)",
        operation_id="integrations_dead_letters_list",
        responses={200: s.ReceivedRecordPageSerializer, **errors(ERR_403, ERR_404)},
    )
    def get(self, request: Request, name: str) -> Response:
        user = current_user(request)
        _admin_only(user, "integrations.dead_letters_list", connector=name[:40])
        try:
            registry.get(name)
        except KeyError:
            raise NotFound() from None
        paginator = DeadLetterPagination()
        page = paginator.paginate_queryset(selectors.dead_letters(name), request, view=self) or []
        # The payloads are the other system's records, personal data included: who read
        # them is kept (as supervisors' reads are).
        record(
            "integrations.dead_letters_viewed",
            actor=user,
            object_type="integrations.connector",
            object_id=name,
            detail={"connector": name, "records": [r.pk for r in page]},
        )
        return paginator.get_paginated_response([s.record_data(r) for r in page])


class DeadLetterReplayView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Process a dead letter again (city IT admin; audited)",
        operation_id="integrations_dead_letter_replay",
        request=None,
        responses={
            200: s.ReceivedRecordSerializer,
            **errors(ERR_403, ERR_404),
            409: error_response("dead_letter_not_dead"),
        },
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        user = current_user(request)
        _admin_only(user, "integrations.dead_letter_replay", record=pk)
        try:
            stored = actions.replay(pk, user)
        except Conflict:
            raise Conflict("dead_letter_not_dead", MESSAGES["dead_letter_not_dead"]) from None
        return Response(s.record_data(stored))
