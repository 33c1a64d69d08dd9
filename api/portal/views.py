"""The portal API: the home in one response, and its personalisation.

Docs: docs/portal.md. ``GET /api/v1/portal/`` answers with every block a person's home
shows (one round trip); the weak ETag and gzip come from api/common/conditional.py, so
an unchanged home is a 304 with no body.
"""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.models import User
from api.common.idempotency import idempotent
from api.common.schema import ERR_400, errors
from api.common.serializers import StrictSerializer
from api.portal import actions, selectors

TAGS = ["portal"]


class PortalHomeSerializer(serializers.Serializer):
    user = serializers.JSONField()
    blocks = serializers.ListField(child=serializers.CharField())
    todo = serializers.JSONField(required=False, help_text="todo, overdue, unread, urgent[3]")
    must_read = serializers.JSONField(required=False, help_text="count, items[≤5]")
    news = serializers.JSONField(required=False, help_text="[{channel, posts[≤5]}]")
    dashboard = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="leaders/supervisors: overdue_by_unit, overdue_documents_by_unit, "
        "supervision_lights, scores, city_management (open, overdue, closed, "
        "by_category[≤5], by_district[≤5])",
    )


class PortalPreferenceSerializer(StrictSerializer):
    blocks = serializers.ListField(child=serializers.CharField(max_length=20), max_length=10)
    channel_ids = serializers.ListField(child=serializers.IntegerField(), max_length=20)


def _user(request: Request) -> User:
    return cast(User, request.user)


class PortalView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="portal",
        summary="The home (门户) in one response",
        description=(
            "To-do and overdue counts with the three most urgent tasks, unread must-read "
            "notices, the latest posts of the followed channels, and for leaders and "
            "supervisors a dashboard (overdue documents by unit, supervision lights, this "
            "month's unit scores). Blocks and channels follow the person's preferences. "
            "Weak ETag: send If-None-Match for a 304."
        ),
        responses={200: PortalHomeSerializer, **errors()},
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.home(_user(request)))


class PreferencesView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="portal_preferences",
        summary="The person's choice of blocks and channels (defaults when never chosen)",
        responses={200: PortalPreferenceSerializer, **errors()},
    )
    def get(self, request: Request) -> Response:
        user = _user(request)
        preference = selectors.preference_of(user)
        return Response(
            {
                "blocks": preference.blocks or list(selectors.BLOCKS),
                "channel_ids": preference.channel_ids or selectors.default_channel_ids(user),
            }
        )

    @extend_schema(
        tags=TAGS,
        operation_id="portal_preferences_save",
        summary="Choose and order the home's blocks and channels",
        request=PortalPreferenceSerializer,
        responses={200: PortalPreferenceSerializer, **errors(ERR_400)},
    )
    @idempotent
    def put(self, request: Request) -> Response:
        serializer = PortalPreferenceSerializer(data=request.data if request.data else {})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        preference = actions.save_preferences(_user(request), data["blocks"], data["channel_ids"])
        return Response({"blocks": preference.blocks, "channel_ids": preference.channel_ids})
