"""HTTP API of notifications: my list, read marks, unread count, push devices,
preferences. Docs: docs/notifications.md#http-api.

Thin views: state changes are in api/notify/actions.py. Everything is the caller's
own: another user's notification or device is a 404 (the refusal is recorded with
``record_denied`` when the object exists, so probing is visible in the audit log).
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.models import User
from api.audit.recorder import record_denied
from api.common.auth import current_user
from api.common.errors import ApiError, NotFound
from api.common.i18n import t
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.schema import ERR_400, ERR_404, errors
from api.notify import actions, selectors
from api.notify.models import Device, Notification, NotificationPreference
from api.notify.serializers import (
    DeliveryTrailSerializer,
    DeviceRegisterSerializer,
    DeviceSerializer,
    DeviceUpdateSerializer,
    EmptySerializer,
    NotificationSerializer,
    PreferenceSerializer,
    PreferenceUpdateSerializer,
    ReadAllResultSerializer,
    UnreadCountSerializer,
)

TAGS = ["notifications"]


def _own_or_404(model: type[Notification] | type[Device], user: User, pk: int, action: str):
    """The caller's own row, or 404 — recorded as denied when it belongs to someone
    else (a 404 that hides another user's object)."""
    field = "recipient_id" if model is Notification else "user_id"
    row = model.objects.filter(pk=pk).first()
    if row is None:
        raise NotFound()
    if getattr(row, field) != user.pk:
        record_denied(
            action,
            actor=user,
            object_type=model._meta.label_lower,
            object_id=pk,
            detail={"reason": "not_yours"},
        )
        raise NotFound()
    return row


class NotificationPagination(CursorPagination):
    ordering = ("-created_at", "-id")  # type: ignore[assignment]


class NotificationListView(ListAPIView):
    """My notifications, newest first (cursor pagination)."""

    serializer_class = NotificationSerializer
    pagination_class = NotificationPagination

    def get_queryset(self) -> QuerySet[Notification]:
        rows = Notification.objects.filter(recipient_id=current_user(self.request).pk).only(
            *[
                "id",
                "kind",
                "title",
                "body",
                "task_id",
                "document_id",
                "urgency",
                "read_at",
                "created_at",
            ]
        )
        unread = self.request.query_params.get("unread")
        if unread is not None:
            if unread not in ("true", "false"):
                raise ApiError(
                    "validation_error",
                    fields={"unread": [t("须为 true 或 false。", "Must be true or false.")]},
                )
            rows = rows.filter(read_at__isnull=unread == "true")
        return rows

    @extend_schema(
        tags=TAGS,
        operation_id="notifications_list",
        summary="My notifications, newest first",
        parameters=[
            OpenApiParameter("unread", bool, description="only unread (true) or only read (false)")
        ],
        responses={200: NotificationSerializer(many=True), **errors(ERR_400, ERR_404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class NotificationReadView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="notifications_read",
        summary="Mark one of my notifications read (stops its reminder ladder)",
        request=EmptySerializer,
        responses={200: NotificationSerializer, **errors(ERR_400, ERR_404)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        EmptySerializer(data=request.data or {}).is_valid(raise_exception=True)
        user = current_user(request)
        notification = _own_or_404(Notification, user, pk, "notify.read")
        return Response(NotificationSerializer(actions.mark_read(notification)).data)


class NotificationTrailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="notifications_trail",
        summary="How one of my notifications travelled: each rung and its real outcome",
        responses={200: DeliveryTrailSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        notification = _own_or_404(Notification, current_user(request), pk, "notify.trail")
        return Response(DeliveryTrailSerializer(selectors.trail(notification)).data)


class NotificationReadAllView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="notifications_read_all",
        summary="Mark all my notifications read",
        request=EmptySerializer,
        responses={200: ReadAllResultSerializer, **errors(ERR_400)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        EmptySerializer(data=request.data or {}).is_valid(raise_exception=True)
        return Response({"marked": actions.mark_all_read(current_user(request))})


class UnreadCountView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="notifications_unread_count",
        summary="How many of my notifications are unread",
        responses={200: UnreadCountSerializer, **errors()},
    )
    def get(self, request: Request) -> Response:
        unread = Notification.objects.filter(
            recipient_id=current_user(request).pk, read_at__isnull=True
        ).count()
        return Response({"unread": unread})


class DevicePagination(CursorPagination):
    ordering = ("-created_at", "-id")  # type: ignore[assignment]


class DeviceListView(ListAPIView):
    """My push devices (FCM tokens, Web Push subscriptions); register one."""

    serializer_class = DeviceSerializer
    pagination_class = DevicePagination

    def get_queryset(self) -> QuerySet[Device]:
        return Device.objects.filter(user_id=current_user(self.request).pk)

    @extend_schema(
        tags=TAGS,
        operation_id="push_devices_list",
        summary="My push devices",
        responses={200: DeviceSerializer(many=True), **errors(ERR_404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAGS,
        operation_id="push_devices_register",
        summary="Register (or refresh) a push device",
        description="Registering the same token/subscription again refreshes it (200); "
        "a new one is 201. An address registered by another user moves to the caller.",
        request=DeviceRegisterSerializer,
        responses={
            201: DeviceSerializer,
            200: OpenApiResponse(DeviceSerializer, description="already registered; refreshed"),
            **errors(ERR_400),
        },
    )
    @idempotent
    def post(self, request: Request) -> Response:
        body = DeviceRegisterSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        device, created = actions.register_device(
            current_user(request),
            kind=data["kind"],
            token=data.get("token", ""),
            subscription=data.get("subscription"),
            label=data["label"],
            push_enabled=data["push_enabled"],
            min_urgency=data["min_urgency"],
        )
        return Response(DeviceSerializer(device).data, status=201 if created else 200)


class DeviceDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="push_devices_update",
        summary="Change a device's label or switches (push on/off, lowest urgency)",
        request=DeviceUpdateSerializer,
        responses={200: DeviceSerializer, **errors(ERR_400, ERR_404)},
    )
    @idempotent
    def patch(self, request: Request, pk: int) -> Response:
        user = current_user(request)
        device = _own_or_404(Device, user, pk, "notify.device_update")
        body = DeviceUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        device = actions.update_device(user, device, dict(body.validated_data))
        return Response(DeviceSerializer(device).data)

    @extend_schema(
        tags=TAGS,
        operation_id="push_devices_remove",
        summary="Remove a push device",
        request=None,
        responses={204: None, **errors(ERR_404)},
    )
    @idempotent
    def delete(self, request: Request, pk: int) -> Response:
        user = current_user(request)
        device = _own_or_404(Device, user, pk, "notify.device_remove")
        actions.remove_device(user, device)
        return Response(status=204)


class PreferenceView(APIView):
    def _current(self, user: User) -> NotificationPreference:
        return actions.preference_of(user)

    @extend_schema(
        tags=TAGS,
        operation_id="notification_preferences_retrieve",
        summary="My notification preferences",
        responses={200: PreferenceSerializer, **errors()},
    )
    def get(self, request: Request) -> Response:
        return Response(PreferenceSerializer(self._current(current_user(request))).data)

    @extend_schema(
        tags=TAGS,
        operation_id="notification_preferences_update",
        summary="Change my notification preferences",
        description="Quiet hours are set by the operator and cannot be switched off "
        "here; `sms_very_urgent_at_night` only lets a user refuse very urgent night SMS.",
        request=PreferenceUpdateSerializer,
        responses={200: PreferenceSerializer, **errors(ERR_400)},
    )
    @idempotent
    def patch(self, request: Request) -> Response:
        body = PreferenceUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        preference = actions.update_preferences(current_user(request), dict(body.validated_data))
        return Response(PreferenceSerializer(preference).data)
