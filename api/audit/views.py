"""The supervisor API over the audit log (read-only).

Docs: docs/audit.md#supervisor-api.

* ``GET /api/v1/audit/events/`` — events newest first (cursor pagination by ``-seq``),
  filtered by actor, action, object, unit (optionally with its subtree), result and
  time; only events within the caller's scope (api/audit/selectors.py).
* ``GET /api/v1/audit/events/{seq}/`` — one event; outside the caller's scope it is a
  404, recorded as a denied ``audit.read``.

A caller with no audit-reading role gets 403 ``permission_denied``, recorded as a
denied ``audit.read``. Writes are 405: the log is append-only.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound as DRFNotFound
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from api.audit import selectors
from api.audit.recorder import record_denied
from api.audit.serializers import (
    AuditErrorSerializer,
    AuditEventFilterSerializer,
    AuditEventSerializer,
)
from api.common.auth import current_user
from api.common.errors import NotFound
from api.common.pagination import CursorPagination
from api.common.permissions import IsAuthenticatedAndVerified

TAGS = ["audit"]


class NewestSeqFirstPagination(CursorPagination):
    ordering = "-seq"
    _position = re.compile(r"^[0-9]{1,19}$")

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        position = None if cursor is None else cursor.position
        if position is not None and not self._position.match(str(position)):
            raise DRFNotFound(self.invalid_cursor_message)
        return cursor


class CanReadAudit(BasePermission):
    """Supervisors, city IT admins and unit admins; anyone else is refused and the
    refusal recorded (before the 403 is raised, outside any transaction)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = current_user(request)
        scope = selectors.audit_scope(user)
        if scope is None:
            record_denied(
                "audit.read",
                actor=user,
                detail={"method": request.method, "path": request.path[:200]},
            )
            return False
        view.audit_scope = scope
        return True


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(AuditErrorSerializer, description=description)


ERRORS = {
    401: _error("not_authenticated / token_invalid / session_revoked"),
    403: _error("permission_denied — the caller holds no audit-reading role (recorded)"),
}

FILTER_PARAMETERS = [
    OpenApiParameter("actor", str, description="The actor's username (exact)."),
    OpenApiParameter("action", str, description="Action name (exact), e.g. network.denied."),
    OpenApiParameter("action_prefix", str, description="Action names starting with this."),
    OpenApiParameter("object_type", str, description="Object type, e.g. accounts.unit."),
    OpenApiParameter("object_id", str, description="Object id (as text)."),
    OpenApiParameter("unit", int, description="Unit id the event belongs to."),
    OpenApiParameter(
        "subtree", bool, description="With unit: also every unit under it (by Unit.path)."
    ),
    OpenApiParameter("result", str, enum=["success", "denied", "failed"]),
    OpenApiParameter(
        "from", OpenApiTypes.DATETIME, description="Events that occurred at or after this."
    ),
    OpenApiParameter("to", OpenApiTypes.DATETIME, description="Events that occurred before this."),
]


class AuditEventListView(generics.ListAPIView):
    serializer_class = AuditEventSerializer
    pagination_class = NewestSeqFirstPagination
    permission_classes = [IsAuthenticatedAndVerified, CanReadAudit]
    audit_scope: selectors.AuditScope

    def get_queryset(self):
        params = AuditEventFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        events = selectors.visible_events(self.audit_scope)
        return selectors.filter_events(events, params.to_filter())

    @extend_schema(
        tags=TAGS,
        summary="Audit events, newest first (supervisors, IT admins, unit admins)",
        description="Only events within the caller's scope: a city IT admin or a "
        "city-level supervisor sees all; a unit admin or a lower supervisor sees their "
        "unit's subtree. Cursor-paginated by seq, newest first.",
        parameters=FILTER_PARAMETERS,
        responses={
            200: AuditEventSerializer(many=True),
            400: _error("validation_error — a filter value is not valid"),
            404: _error("not_found — the cursor is not valid"),
            **ERRORS,
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class AuditEventDetailView(generics.GenericAPIView):
    serializer_class = AuditEventSerializer
    permission_classes = [IsAuthenticatedAndVerified, CanReadAudit]
    audit_scope: selectors.AuditScope

    @extend_schema(
        tags=TAGS,
        summary="One audit event by its sequence number",
        responses={
            200: AuditEventSerializer,
            404: _error("not_found — no such event, or outside the caller's scope"),
            **ERRORS,
        },
    )
    def get(self, request: Request, seq: int) -> Response:
        event = selectors.event_by_seq(self.audit_scope, seq)
        if event is None:
            if selectors.event_exists(seq):
                record_denied(
                    "audit.read",
                    actor=request.user,
                    object_type="audit.auditevent",
                    object_id=seq,
                    detail={"method": request.method, "path": request.path[:200]},
                )
            raise NotFound()
        return Response(self.get_serializer(event).data)
