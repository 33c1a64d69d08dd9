"""Absences (A/B delegation) over HTTP: docs/delegation.md#absence-api.

``/me/absences/`` for oneself; ``/users/{id}/absences/`` for an admin acting for a
person of their subtree (unit admin) or anyone (city IT admin). The views are thin:
the rules live in api/accounts/actions/absence.py.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.accounts import selectors
from api.accounts.actions import absence as actions
from api.accounts.delegation import backup_of
from api.accounts.models import Absence, User
from api.accounts.views.org_common import NewestFirstPagination
from api.common.auth import current_user
from api.common.errors import NotFound
from api.common.idempotency import idempotent
from api.common.people import PersonRefSerializer
from api.common.schema import ERR_400, ERR_403, ERR_404, error_response, errors
from api.common.serializers import StrictSerializer

TAGS = ["delegation"]
ERR_409 = {
    409: error_response("absence_overlaps / absence_not_in_effect / absence_already_started")
}


class AbsenceSerializer(serializers.ModelSerializer):
    user = PersonRefSerializer(read_only=True)
    created_by = PersonRefSerializer(read_only=True)
    state = serializers.SerializerMethodField(
        help_text="upcoming / in_effect / ended / cancelled, at the time of the response"
    )
    backup = serializers.SerializerMethodField(
        help_text="Who receives the person's tasks while the absence is in effect (the "
        "backup of their first post with a backup, as configured now); null: nobody."
    )

    class Meta:
        model = Absence
        fields = [
            "id",
            "user",
            "starts_at",
            "ends_at",
            "reason",
            "state",
            "backup",
            "created_by",
            "created_at",
            "cancelled_at",
            "ended_early_at",
        ]

    def get_state(self, obj: Absence) -> str:
        now = self.context.get("now") or timezone.now()
        if obj.cancelled_at is not None:
            return "cancelled"
        if obj.ends_at <= now:
            return "ended"
        if obj.starts_at <= now:
            return "in_effect"
        return "upcoming"

    @extend_schema_field(PersonRefSerializer(allow_null=True))
    def get_backup(self, obj: Absence) -> dict[str, Any] | None:
        backup = self.context.get("backup")
        return None if backup is None else PersonRefSerializer(backup).data


class AbsenceCreateSerializer(StrictSerializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


def _context(target: User) -> dict[str, Any]:
    return {"backup": backup_of(target), "now": timezone.now()}


def _target(request: Request, user_id: int, action: str) -> User:
    target = selectors.user_by_id(user_id)
    if target is None:
        raise NotFound()
    actions.check_can_manage_absences(current_user(request), target, action)
    return target


DECLARE_EXAMPLE = OpenApiExample(
    "Away for a meeting in the provincial capital",
    value={
        "starts_at": "2026-10-12T08:00:00+08:00",
        "ends_at": "2026-10-14T18:00:00+08:00",
        "reason": "赴省里开会",
    },
    request_only=True,
)


class _AbsenceList(generics.ListAPIView):
    serializer_class = AbsenceSerializer
    pagination_class = NewestFirstPagination

    def target(self) -> User:
        raise NotImplementedError

    def get_queryset(self):
        return Absence.objects.filter(user=self.target()).select_related("user", "created_by")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), **_context(self.target())}

    def declare(self, request: Request, target: User) -> Response:
        data = AbsenceCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        absence = actions.declare_absence(current_user(request), target, **data.validated_data)
        body = AbsenceSerializer(absence, context=_context(target)).data
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS)
class MyAbsencesView(_AbsenceList):
    def target(self) -> User:
        return current_user(self.request)

    @extend_schema(
        summary="My absences (newest first)",
        responses={200: AbsenceSerializer(many=True), **errors()},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Declare an absence of mine",
        description="While it is in effect my tasks go to the backup of my post. "
        "ends_at after starts_at and in the future; at most GOVDESK_ABSENCE_MAX_DAYS (90) "
        "days. Codes: validation_error, absence_overlaps (409).",
        request=AbsenceCreateSerializer,
        examples=[DECLARE_EXAMPLE],
        responses={201: AbsenceSerializer, **errors(ERR_400, ERR_409)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        return self.declare(request, current_user(request))


@extend_schema(tags=TAGS)
class UserAbsencesView(_AbsenceList):
    def target(self) -> User:
        cached = getattr(self, "_target", None)
        if cached is None:
            cached = _target(self.request, self.kwargs["pk"], "absence.list")
            self._target = cached
        return cached

    @extend_schema(
        summary="A person's absences (their unit admin or a city IT admin)",
        responses={200: AbsenceSerializer(many=True), **errors(ERR_403, ERR_404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Declare an absence for a person (their unit admin or a city IT admin)",
        description="Same rules as /me/absences/. Someone outside the admin's view: 404.",
        request=AbsenceCreateSerializer,
        examples=[DECLARE_EXAMPLE],
        responses={201: AbsenceSerializer, **errors(ERR_400, ERR_403, ERR_404, ERR_409)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        return self.declare(request, _target(request, pk, "absence.declare"))


class _AbsenceTransition(generics.GenericAPIView):
    serializer_class = AbsenceSerializer
    action_name = ""

    def apply(self, actor: User, absence: Absence) -> Absence:
        raise NotImplementedError

    def respond(self, request: Request, target: User, absence_id: int) -> Response:
        absence = actions.absence_for(current_user(request), target, absence_id, self.action_name)
        absence = self.apply(current_user(request), absence)
        return Response(AbsenceSerializer(absence, context=_context(target)).data)


class _End(_AbsenceTransition):
    action_name = "absence.end"

    def apply(self, actor: User, absence: Absence) -> Absence:
        return actions.end_absence(actor, absence)


class _Cancel(_AbsenceTransition):
    action_name = "absence.cancel"

    def apply(self, actor: User, absence: Absence) -> Absence:
        return actions.cancel_absence(actor, absence)


END_DOC = (
    "Ends the absence now: tasks that are still open return to the person; what the "
    "backup already did stays done. 409 absence_not_in_effect when not in effect."
)
CANCEL_DOC = (
    "Cancels an absence that has not started. 409 absence_already_started (end it "
    "instead) or absence_cancelled."
)


@extend_schema(tags=TAGS)
class MyAbsenceEndView(_End):
    @extend_schema(
        summary="End my absence now",
        description=END_DOC,
        request=None,
        responses={200: AbsenceSerializer, **errors(ERR_404, ERR_409)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        return self.respond(request, current_user(request), pk)


@extend_schema(tags=TAGS)
class MyAbsenceCancelView(_Cancel):
    @extend_schema(
        summary="Cancel my absence before it starts",
        description=CANCEL_DOC,
        request=None,
        responses={200: AbsenceSerializer, **errors(ERR_404, ERR_409)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        return self.respond(request, current_user(request), pk)


@extend_schema(tags=TAGS)
class UserAbsenceEndView(_End):
    @extend_schema(
        summary="End a person's absence now (admin)",
        description=END_DOC,
        request=None,
        responses={200: AbsenceSerializer, **errors(ERR_403, ERR_404, ERR_409)},
    )
    @idempotent
    def post(self, request: Request, pk: int, absence_id: int) -> Response:
        target = selectors.user_by_id(pk)
        if target is None:
            raise NotFound()
        return self.respond(request, target, absence_id)


@extend_schema(tags=TAGS)
class UserAbsenceCancelView(_Cancel):
    @extend_schema(
        summary="Cancel a person's absence before it starts (admin)",
        description=CANCEL_DOC,
        request=None,
        responses={200: AbsenceSerializer, **errors(ERR_403, ERR_404, ERR_409)},
    )
    @idempotent
    def post(self, request: Request, pk: int, absence_id: int) -> Response:
        target = selectors.user_by_id(pk)
        if target is None:
            raise NotFound()
        return self.respond(request, target, absence_id)
