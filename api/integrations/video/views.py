"""The video API under /api/v1/video/. Docs: docs/integrations.md#video-api.

Thin views: who may see what is api/integrations/video/selectors.py, every change a
function of api/integrations/video/actions.py. A camera the caller may not view is a 404
(recorded), and the list never shows it.
"""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit.recorder import record_denied
from api.common.auth import current_user
from api.common.errors import Forbidden
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.schema import (
    ERR_400,
    ERR_403,
    ERR_404,
    IDEMPOTENCY_HEADER,
    error_response,
    errors,
)
from api.common.serializers import validated_body
from api.integrations.video import actions, selectors
from api.integrations.video.serializers import (
    CameraFilterSerializer,
    CameraSerializer,
    EmptySerializer,
    GrantCreateSerializer,
    GrantSerializer,
    PlaySerializer,
    ViewSessionSerializer,
)

TAGS = ["video"]
HEARTBEAT_SECONDS = 30
ERR_PLAY = {
    409: error_response("camera_retired / camera_offline"),
    503: error_response(
        "video_unavailable — the video platform is not configured or not reachable"
    ),
}
ERR_GRANT_EXISTS = {409: error_response("grant_exists")}


class ById(CursorPagination):
    ordering = "id"


class CameraListView(generics.GenericAPIView):
    serializer_class = CameraSerializer
    pagination_class = ById

    @extend_schema(
        tags=TAGS,
        operation_id="video_cameras_list",
        summary="Cameras I may view (retired ones left out)",
        parameters=[OpenApiParameter("type", str, enum=["tianwang", "traffic", "city"])],
        responses={200: CameraSerializer(many=True), **errors(ERR_400)},
    )
    def get(self, request: Request) -> Response:
        params = CameraFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = cast(dict[str, Any], params.validated_data)
        cameras = selectors.visible_cameras(current_user(request)).select_related("owner_unit")
        if "type" in query:
            cameras = cameras.filter(camera_type=query["type"])
        page = self.paginate_queryset(cameras)
        return self.get_paginated_response(CameraSerializer(page, many=True).data)


class CameraDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="video_cameras_retrieve",
        summary="One camera I may view",
        responses={200: CameraSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        camera = selectors.camera_or_404(current_user(request), pk)
        return Response(CameraSerializer(camera).data)


class PlayView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="video_cameras_play",
        summary="A short-lived signed HLS URL from the video platform; opens a view (audited)",
        request=EmptySerializer,
        responses={201: PlaySerializer, **errors(ERR_400, ERR_404, ERR_PLAY)},
    )
    def post(self, request: Request, pk: int) -> Response:
        validated_body(EmptySerializer, request)
        view, url = actions.start_view(current_user(request), pk)
        body = {
            "view_id": view.pk,
            "url": url,
            "expires_at": view.url_expires_at,
            "heartbeat_seconds": HEARTBEAT_SECONDS,
        }
        return Response(PlaySerializer(body).data, status=201)


class ViewListView(generics.GenericAPIView):
    serializer_class = ViewSessionSerializer
    pagination_class = CursorPagination

    @extend_schema(
        tags=TAGS,
        operation_id="video_views_list",
        summary="View records: all (city IT admin), my subtree's cameras (unit admin), my own",
        responses={200: ViewSessionSerializer(many=True), **errors(ERR_400)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.visible_views(current_user(request)))
        return self.get_paginated_response(ViewSessionSerializer(page, many=True).data)


class HeartbeatView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="video_views_heartbeat",
        summary="The player still plays (every heartbeat_seconds)",
        request=EmptySerializer,
        responses={200: ViewSessionSerializer, **errors(ERR_400, ERR_404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        validated_body(EmptySerializer, request)
        view = actions.heartbeat(current_user(request), pk)
        return Response(ViewSessionSerializer(view).data)


class StopView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="video_views_stop",
        summary="The player stopped: the view ends and its duration is recorded (audited)",
        request=EmptySerializer,
        responses={200: ViewSessionSerializer, **errors(ERR_400, ERR_404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        validated_body(EmptySerializer, request)
        view = actions.stop_view(current_user(request), pk)
        return Response(ViewSessionSerializer(view).data)


def _grant_manager(request: Request, action: str):
    user = current_user(request)
    if not selectors.can_manage_grants(user):
        record_denied(action, actor=user, object_type="integrations_video.cameragrant")
        raise Forbidden()
    return user


class GrantListView(generics.GenericAPIView):
    serializer_class = GrantSerializer
    pagination_class = CursorPagination

    @extend_schema(
        tags=TAGS,
        operation_id="video_grants_list",
        summary="Viewing grants I manage (city IT admin: all; unit admin: my subtree's cameras)",
        responses={200: GrantSerializer(many=True), **errors(ERR_400, ERR_403)},
    )
    def get(self, request: Request) -> Response:
        user = _grant_manager(request, "video.grant_list")
        page = self.paginate_queryset(selectors.manageable_grants(user))
        return self.get_paginated_response(GrantSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="video_grants_create",
        summary="Let a unit subtree (or a role there) view a type of cameras of an owner",
        parameters=[IDEMPOTENCY_HEADER],
        request=GrantCreateSerializer,
        responses={201: GrantSerializer, **errors(ERR_400, ERR_403, ERR_404, ERR_GRANT_EXISTS)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        user = _grant_manager(request, "video.grant_create")
        data = validated_body(GrantCreateSerializer, request)
        grant = actions.create_grant(user, data)
        grant = selectors.manageable_grants(user).get(pk=grant.pk)
        return Response(GrantSerializer(grant).data, status=201)


class GrantRevokeView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="video_grants_revoke",
        summary="Revoke a viewing grant (kept for the record)",
        parameters=[IDEMPOTENCY_HEADER],
        request=EmptySerializer,
        responses={200: GrantSerializer, **errors(ERR_400, ERR_403, ERR_404)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        user = _grant_manager(request, "video.grant_revoke")
        validated_body(EmptySerializer, request)
        grant = actions.revoke_grant(user, pk)
        grant = selectors.manageable_grants(user).get(pk=grant.pk)
        return Response(GrantSerializer(grant).data)
