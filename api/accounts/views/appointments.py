"""Appointment requests (任免备案) for every sensitive role: unit admins, clerks,
leaders, seal custodians and supervisors.

Docs: docs/organisation.md#appointment-requests. A unit admin of the unit's subtree
(or a city IT admin) files a request; a city IT admin other than the requester
approves or rejects it; the requester may cancel it while pending. Repeating the
decision a request already has answers 200 with the unchanged request (a double tap
is harmless); a different decision on a closed request answers 409 ``conflict``
with the request's ``status`` in the error body.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.accounts import selectors
from api.accounts.actions import org as actions
from api.accounts.models import AppointmentRequest
from api.accounts.serializers.org import (
    APPOINTMENT_STATUSES,
    AppointmentCreateSerializer,
    AppointmentDecisionSerializer,
    AppointmentSerializer,
    EmptySerializer,
)
from api.accounts.views.org_common import (
    ERR_400,
    ERR_403,
    ERR_404,
    ERR_409,
    ERR_422,
    NewestFirstPagination,
    errors,
    unit_for_field,
)
from api.common.auth import current_user
from api.common.errors import NotFound
from api.common.idempotency import idempotent
from api.common.params import choice_param, int_param


def _visible(request: Request, pk: int, action: str) -> AppointmentRequest:
    appointment = selectors.appointment_by_id(pk)
    if appointment is None:
        raise NotFound()
    actions.check_can_see_appointment(current_user(request), appointment, action)
    return appointment


@extend_schema(tags=["organisation"])
class AppointmentListView(generics.ListAPIView):
    serializer_class = AppointmentSerializer
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        queryset = selectors.appointments_visible_to(current_user(self.request))
        wanted = choice_param(self.request, "status", APPOINTMENT_STATUSES)
        if wanted is not None:
            queryset = queryset.filter(status=wanted)
        unit = int_param(self.request, "unit")
        if unit is not None:
            queryset = queryset.filter(unit_id=unit)
        return queryset

    @extend_schema(
        summary="Appointment requests: mine, or all for a city IT admin",
        parameters=[
            OpenApiParameter("status", str, enum=APPOINTMENT_STATUSES),
            OpenApiParameter("unit", int, description="only requests for this unit"),
        ],
        responses={200: AppointmentSerializer(many=True), **errors(ERR_400)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="File an appointment/removal request for a sensitive role",
        description="unit_admin, clerk, leader, seal_custodian or supervisor. By an admin "
        "of the unit's subtree or a city IT admin. Codes: appointment_pending (409), "
        "appointment_not_applicable (422), supervisor_own_unit (422: a supervisor role "
        "scoped to the person's own unit or body).",
        request=AppointmentCreateSerializer,
        responses={201: AppointmentSerializer, **errors(ERR_400, ERR_403, ERR_409, ERR_422)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = AppointmentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        unit = unit_for_field(values.pop("unit_id"), "unit_id")
        appointment = actions.request_appointment(current_user(request), unit=unit, **values)
        return Response(AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["organisation"])
class AppointmentDetailView(generics.GenericAPIView):
    serializer_class = AppointmentSerializer

    @extend_schema(
        summary="One appointment request", responses={200: AppointmentSerializer, **errors(ERR_404)}
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(AppointmentSerializer(_visible(request, pk, "appointment.read")).data)


class _DecisionView(generics.GenericAPIView):
    serializer_class = AppointmentSerializer
    action_name = ""

    def decide(self, request: Request, appointment: AppointmentRequest, note: str):
        raise NotImplementedError

    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        appointment = _visible(request, pk, self.action_name)
        data = AppointmentDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appointment, _changed = self.decide(request, appointment, data.validated_data["note"])
        appointment = selectors.appointment_by_id(appointment.pk) or appointment
        return Response(AppointmentSerializer(appointment).data)


DECISION_ERRORS = errors(ERR_400, ERR_403, ERR_404, ERR_409)


@extend_schema(
    tags=["organisation"],
    summary="Approve (city IT admin, not the requester): the role change applies at once",
    description="Codes: self_approval (403), conflict (409, with status).",
    request=AppointmentDecisionSerializer,
    responses={200: AppointmentSerializer, **DECISION_ERRORS},
)
class AppointmentApproveView(_DecisionView):
    action_name = "appointment.approve"

    def decide(self, request, appointment, note):
        return actions.approve_appointment(current_user(request), appointment, note)


@extend_schema(
    tags=["organisation"],
    summary="Reject (city IT admin, not the requester); note required",
    description="Codes: self_approval (403), conflict (409, with status).",
    request=AppointmentDecisionSerializer,
    responses={200: AppointmentSerializer, **DECISION_ERRORS},
)
class AppointmentRejectView(_DecisionView):
    action_name = "appointment.reject"

    def decide(self, request, appointment, note):
        return actions.reject_appointment(current_user(request), appointment, note)


@extend_schema(tags=["organisation"])
class AppointmentCancelView(generics.GenericAPIView):
    serializer_class = AppointmentSerializer

    @extend_schema(
        summary="Cancel my pending request",
        request=EmptySerializer,
        responses={200: AppointmentSerializer, **DECISION_ERRORS},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        appointment = _visible(request, pk, "appointment.cancel")
        EmptySerializer(data=request.data).is_valid(raise_exception=True)
        appointment, _changed = actions.cancel_appointment(current_user(request), appointment)
        appointment = selectors.appointment_by_id(appointment.pk) or appointment
        return Response(AppointmentSerializer(appointment).data)
