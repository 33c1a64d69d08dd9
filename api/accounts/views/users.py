"""People of the organisation: staff accounts, profile fields, plain roles.

Docs: docs/organisation.md#people-and-roles. A unit admin creates staff accounts in
their subtree (initial password, changed at first login), edits them and grants or
revokes the plain roles (staff, leader, seal_custodian, supervisor). Unit admins and
clerks change only through appointment requests; city_it_admin only by a city IT admin.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.accounts import selectors
from api.accounts.actions import org as actions
from api.accounts.models import User
from api.accounts.serializers.org import (
    MemberSerializer,
    RoleAssignmentSerializer,
    RoleGrantSerializer,
    UserCreateSerializer,
    UserUpdateSerializer,
)
from api.accounts.views.org_common import (
    ERR_400,
    ERR_403,
    ERR_404,
    ERR_422,
    NewestFirstPagination,
    errors,
    unit_for_field,
    unit_or_404,
)
from api.common.auth import current_user
from api.common.errors import NotFound
from api.common.idempotency import idempotent


def _visible_user(request: Request, user_id: int, action: str) -> User:
    target = selectors.user_by_id(user_id)
    if target is None:
        raise NotFound()
    actions.check_can_see_user(current_user(request), target, action)
    return target


@extend_schema(tags=["organisation"])
class UnitUsersView(generics.GenericAPIView):
    serializer_class = MemberSerializer

    @extend_schema(
        summary="Create a staff account in the unit (admin of its subtree)",
        description="The initial password must pass the password policy; the person must "
        "change it at first login (must_change_password).",
        request=UserCreateSerializer,
        responses={201: MemberSerializer, **errors(ERR_400, ERR_403, ERR_404)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        unit = unit_or_404(pk)
        actions.check_can_see_people(current_user(request), unit, "user.create")
        data = UserCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = actions.create_staff_user(current_user(request), unit, **data.validated_data)
        return Response(MemberSerializer(user).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["organisation"])
class UserDetailView(generics.GenericAPIView):
    serializer_class = MemberSerializer

    @extend_schema(summary="One person", responses={200: MemberSerializer, **errors(ERR_404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(MemberSerializer(_visible_user(request, pk, "user.read")).data)

    @extend_schema(
        summary="Edit display name, title, mobile; activate/deactivate",
        description="Deactivating signs the person out of every device. Codes: own_account.",
        request=UserUpdateSerializer,
        responses={200: MemberSerializer, **errors(ERR_400, ERR_403, ERR_404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        target = _visible_user(request, pk, "user.update")
        data = UserUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = actions.update_user(current_user(request), target, dict(data.validated_data))
        return Response(MemberSerializer(user).data)


@extend_schema(tags=["organisation"])
class UserRolesView(generics.ListAPIView):
    serializer_class = RoleAssignmentSerializer
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        target = _visible_user(self.request, self.kwargs["pk"], "role.list")
        return selectors.role_assignments(target)

    @extend_schema(
        summary="Roles of a person",
        responses={200: RoleAssignmentSerializer(many=True), **errors(ERR_404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Grant a plain role (201; 200 when already held)",
        description="staff: an admin of both the person's unit and the role's unit. "
        "city_it_admin: a city IT admin. Every sensitive role (unit_admin, clerk, leader, "
        "seal_custodian, supervisor) is filed: 422 filed_role, whose error carries "
        "route=/api/v1/appointments/ (file an appointment request there). Never your own "
        "roles (403 own_account).",
        request=RoleGrantSerializer,
        responses={
            201: RoleAssignmentSerializer,
            200: RoleAssignmentSerializer,
            **errors(ERR_400, ERR_403, ERR_404, ERR_422),
        },
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        target = _visible_user(request, pk, "role.grant")
        data = RoleGrantSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        unit_id = data.validated_data.get("unit_id")
        unit = target.unit if unit_id is None else unit_for_field(unit_id, "unit_id")
        assignment, created = actions.grant_role(
            current_user(request), target, data.validated_data["role"], unit
        )
        return Response(
            RoleAssignmentSerializer(assignment).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


@extend_schema(tags=["organisation"])
class UserRoleDetailView(generics.GenericAPIView):
    serializer_class = RoleAssignmentSerializer

    @extend_schema(
        summary="Revoke a plain role",
        description="Same rules as granting; every sensitive role (unit_admin, clerk, "
        "leader, seal_custodian, supervisor) answers 422 filed_role.",
        responses={204: None, **errors(ERR_403, ERR_404, ERR_422)},
    )
    def delete(self, request: Request, pk: int, assignment_id: int) -> Response:
        target = _visible_user(request, pk, "role.revoke")
        assignment = (
            selectors.role_assignments(target)
            .select_related("unit")
            .filter(pk=assignment_id if assignment_id <= selectors.MAX_ID else 0)
            .first()
        )
        if assignment is None:
            raise NotFound()
        actions.revoke_role(current_user(request), target, assignment)
        return Response(status=status.HTTP_204_NO_CONTENT)
