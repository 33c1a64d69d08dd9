"""Janus's event handler posts here: /api/v1/meetings/janus-events/.

Docs: docs/meetings.md#attendance. Janus's sample event handler sends batches of JSON
events with HTTP basic auth (user ``janus``, ``GOVDESK_JANUS_EVENT_PASSWORD``). Not a
people's endpoint: no bearer token, left out of the OpenAPI schema. The network-zone
middleware still applies (Janus runs inside the intranet).
"""

from __future__ import annotations

import base64
import binascii
import secrets

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit.recorder import record_denied
from api.common.errors import ApiError
from api.meetings import actions


def _authorised(request: Request) -> bool:
    expected = settings.GOVDESK_JANUS_EVENT_PASSWORD
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not expected or not header.startswith("Basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return secrets.compare_digest(user, "janus") and secrets.compare_digest(password, expected)


class JanusEventsView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        if not _authorised(request):
            record_denied("meeting.janus_events", detail={"reason": "bad_credentials"})
            raise ApiError("not_authenticated", status_code=401)
        payload = request.data
        events = payload if isinstance(payload, list) else [payload]
        changed = actions.record_janus_events([e for e in events if isinstance(e, dict)])
        return Response({"changed": changed})
