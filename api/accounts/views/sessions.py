""" "My devices": list, revoke one, revoke all (docs/identity.md#sessions).

A revoked session stops at its next request (authentication checks the row), and
its refresh token is blacklisted. Another user's session is a 404.
"""

from __future__ import annotations

from uuid import UUID

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.actions import identity
from api.accounts.authentication import current_session
from api.accounts.models import UserSession
from api.accounts.serializers.identity import (
    DeviceSessionSerializer,
    EmptySerializer,
    RevokeAllResultSerializer,
    RevokeAllSerializer,
)
from api.accounts.views.auth import TAG, errors
from api.common.auth import current_user
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination


class SessionPagination(CursorPagination):
    ordering = ("-created_at", "-id")  # type: ignore[assignment]


def _current_id(request):
    session = current_session(request)
    return session.pk if session is not None else None


class SessionListView(ListAPIView):
    """My active sessions (signed-in devices), newest first; ``current`` marks this one."""

    serializer_class = DeviceSessionSerializer
    pagination_class = SessionPagination

    def get_queryset(self):
        return UserSession.objects.filter(
            user_id=current_user(self.request).pk,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "current_session_id": _current_id(self.request)}

    @extend_schema(
        tags=TAG,
        operation_id="sessions_list",
        responses={200: DeviceSessionSerializer(many=True), **errors(401, 403)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SessionRevokeView(APIView):
    """Sign one of my devices out (this one too). Repeating it answers the same."""

    @extend_schema(
        tags=TAG,
        operation_id="sessions_revoke",
        request=EmptySerializer,
        responses={200: DeviceSessionSerializer, **errors(400, 401, 403, 404)},
    )
    @idempotent
    def post(self, request, session_id: UUID):
        EmptySerializer(data=request.data).is_valid(raise_exception=True)
        session = identity.revoke_session(request.user, session_id)
        context = {"current_session_id": _current_id(request)}
        return Response(DeviceSessionSerializer(session, context=context).data)


class SessionRevokeAllView(APIView):
    """Sign out every device of mine (a lost phone); ``keep_current`` spares this one."""

    @extend_schema(
        tags=TAG,
        operation_id="sessions_revoke_all",
        request=RevokeAllSerializer,
        responses={200: RevokeAllResultSerializer, **errors(400, 401, 403)},
    )
    @idempotent
    def post(self, request):
        body = RevokeAllSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        count = identity.revoke_all_sessions(
            request.user, current_session(request), body.validated_data["keep_current"]
        )
        return Response({"revoked": count})
