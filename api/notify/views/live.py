"""HTTP side of the live channel: the SSE stream, stream tickets, the Web Push key.

Docs: docs/notifications.md#live-channel-sse and #web-push. The mechanics (tickets,
wake-ups, the stream itself) are in api/notify/live.py.

* ``GET /api/v1/notifications/stream/`` -- ``text/event-stream`` of the caller's new
  notifications. Authenticated by the Bearer header, or by ``?ticket=`` from
  ``POST /api/v1/notifications/stream-ticket/`` (EventSource cannot send headers).
  Each event: ``id: <notification id>``, ``event: notification``, ``data: <the list
  item JSON>``. ``Last-Event-ID`` (header, or ``?last_event_id=`` for a new
  EventSource) replays the ones after it; without it the stream starts at "now".
* ``POST /api/v1/notifications/stream-ticket/`` -- ``{ticket, expires_in}``. Minting
  changes no record (a short-lived cache entry), so it takes no Idempotency-Key and is
  not audited: a repeat simply mints another single-use ticket.
* ``GET /api/v1/notifications/webpush-key/`` -- ``{public_key}``, the VAPID key the
  PWA passes to ``PushManager.subscribe`` as ``applicationServerKey``.

Streams are the caller's own by construction (filtered on the recipient): there is
no object of someone else to address, so no 404 case.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.authentication import SessionJWTAuthentication
from api.accounts.models import User
from api.common.auth import current_user
from api.common.datetimes import ClientJSONRenderer
from api.common.errors import ApiError
from api.common.schema import ERR_400, error_response, errors
from api.notify import live

TAGS = ["notifications"]
MAX_EVENT_ID = 2**63 - 1


class StreamTicketAuthentication(BaseAuthentication):
    """``?ticket=`` on the stream URL only: a single-use ticket (api/notify/live.py)."""

    def authenticate(self, request: Request) -> tuple[User, None] | None:
        ticket = request.query_params.get("ticket")
        if ticket is None:
            return None
        redeemed = live.redeem_ticket(ticket)
        if redeemed is None:
            raise exceptions.AuthenticationFailed(
                "stream ticket invalid", code="stream_ticket_invalid"
            )
        user, session = redeemed
        user.govdesk_session = session  # type: ignore[attr-defined]
        # The MFA gate (IsAuthenticatedAndVerified) reads the session from here.
        request._request.govdesk_session = session  # type: ignore[attr-defined]
        return user, None

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class StreamTicketScheme(OpenApiAuthenticationExtension):
    target_class = "api.notify.views.live.StreamTicketAuthentication"
    name = "streamTicket"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "query", "name": "ticket"}


class StreamTicketSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text="single use; pass as ?ticket= to the stream")
    expires_in = serializers.IntegerField(help_text="seconds until it can no longer be used")


class WebPushKeySerializer(serializers.Serializer):
    public_key = serializers.CharField(
        help_text="VAPID public key, base64url uncompressed P-256 point (applicationServerKey)"
    )


def _last_event_id(request: Request) -> int | None:
    raw = request.headers.get("Last-Event-ID")
    if raw is None or raw.strip() == "":
        raw = request.query_params.get("last_event_id")
    if raw is None:
        return None
    raw = raw.strip()
    # isascii: str.isdigit() is also true for "²" or "١", which int() refuses (a 500).
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_EVENT_ID:
        raise ApiError("stream_last_event_id_invalid")
    return int(raw)


@lru_cache(maxsize=4)
def _public_key(private_key: str) -> str:
    from notifications.channels.webpush import public_key_of

    return public_key_of(private_key)


class NotificationStreamView(APIView):
    authentication_classes = [SessionJWTAuthentication, StreamTicketAuthentication]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # EventSource asks for text/event-stream; the stream itself is a streaming
        # response, and any error before it starts is the JSON envelope (never 406).
        return (ClientJSONRenderer(), ClientJSONRenderer.media_type)

    @extend_schema(
        tags=TAGS,
        operation_id="notification_stream",
        summary="新通知实时推送 (SSE) · live stream of my new notifications",
        description=(
            "Server-sent events, `text/event-stream`. Each event: `id: <notification id>`, "
            "`event: notification`, `data: <the same JSON as a list item>`; comment "
            "heartbeats `: ping` every 15 s. The stream ends after "
            "`GOVDESK_NOTIFY_STREAM_SECONDS` (55 s); reconnect with `Last-Event-ID`. "
            "EventSource cannot set headers: use `?ticket=` from "
            "`POST /api/v1/notifications/stream-ticket/` (single use, 60 s)."
        ),
        parameters=[
            OpenApiParameter(
                "ticket",
                str,
                OpenApiParameter.QUERY,
                required=False,
                description="single-use stream ticket, instead of the Authorization header",
            ),
            OpenApiParameter(
                "last_event_id",
                int,
                OpenApiParameter.QUERY,
                required=False,
                description="replay notifications after this id (like the header)",
            ),
            OpenApiParameter(
                "Last-Event-ID",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="sent by EventSource on reconnect: replay after this id",
            ),
        ],
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.STR, description="the event stream"
            ),
            **errors(ERR_400),
            401: error_response("not_authenticated / token_invalid / stream_ticket_invalid"),
            503: error_response("stream_capacity — too many open streams; poll instead"),
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        user = current_user(request)
        session = getattr(request._request, "govdesk_session", None)
        last_id = _last_event_id(request)
        if not live.slots.acquire():
            raise ApiError("stream_capacity", status_code=503, extra={"retry_after": 30})
        try:
            start = live.latest_id(user.pk) if last_id is None else last_id
            stream = live.Stream(
                user.pk, getattr(session, "pk", None), start, live.StreamSettings.current()
            )
        except BaseException:
            live.slots.release()
            raise
        response = StreamingHttpResponse(stream, content_type="text/event-stream; charset=utf-8")
        response["Cache-Control"] = "no-cache, no-transform"
        response["X-Accel-Buffering"] = "no"  # nginx: pass each event through at once
        # GZipMiddleware would compress the stream and zlib would hold the events back
        # until its buffer fills: to the middleware this client accepts no gzip.
        request._request.META.pop("HTTP_ACCEPT_ENCODING", None)
        return response


class StreamTicketView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="notification_stream_ticket",
        summary="获取实时推送票据 · a single-use ticket for the live stream",
        request=None,
        responses={201: StreamTicketSerializer, **errors()},
    )
    def post(self, request: Request) -> Response:
        user = current_user(request)
        session = getattr(request._request, "govdesk_session", None)
        if session is None:  # every Bearer token carries a session (api/accounts)
            raise exceptions.NotAuthenticated()
        ticket, seconds = live.issue_ticket(user, session)
        return Response(
            StreamTicketSerializer({"ticket": ticket, "expires_in": seconds}).data, status=201
        )


class WebPushKeyView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="notification_webpush_key",
        summary="Web Push 公钥 · the VAPID public key for PushManager.subscribe",
        responses={
            200: WebPushKeySerializer,
            **errors(),
            409: error_response("webpush_not_configured"),
        },
    )
    def get(self, request: Request) -> Response:
        private = settings.GOVDESK_NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY
        if not private or not settings.GOVDESK_NOTIFY_WEBPUSH_VAPID_SUBJECT:
            raise ApiError("webpush_not_configured", status_code=409)
        return Response(WebPushKeySerializer({"public_key": _public_key(private)}).data)
