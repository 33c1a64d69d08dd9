"""Units tree endpoints: list, detail, children, members, create, update/move.

Docs: docs/organisation.md#units. Every signed-in user sees every unit's name and
place in the tree (needed to address documents); members and posts are visible only
to the unit's people, its admins, city IT admins and supervisors (others: 404).
"""

from __future__ import annotations

from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.accounts import selectors
from api.accounts.actions import org as actions
from api.accounts.models import Unit, UnitKind
from api.accounts.roles import has_full_view
from api.accounts.selectors import PINYIN_QUERY, pinyin_of
from api.accounts.serializers.org import (
    MemberSerializer,
    UnitCreateSerializer,
    UnitSerializer,
    UnitUpdateSerializer,
)
from api.accounts.views.org_common import (
    ERR_400,
    ERR_403,
    ERR_404,
    TreeOrderPagination,
    UsernamePagination,
    errors,
    unit_for_field,
    unit_or_404,
)
from api.common.auth import current_user
from api.common.idempotency import idempotent
from api.common.params import bool_param, choice_param, int_param, str_param

KINDS = [k for k, _ in UnitKind.choices]


def _pinyin_matches(query: str) -> list[int]:
    """Units whose name or short name contains ``query`` in pinyin, full or initials:
    ``caizheng`` or ``czj`` finds 市财政局 (names start with 市/新城…, so a prefix
    match would find little). One scan of (id, name, short name); pinyin is cached."""
    ids = []
    for pk, name, short_name in Unit.objects.values_list("id", "name", "short_name"):
        for text in (name, short_name):
            initials, full = pinyin_of(text) if text else ("", "")
            if query in initials or query in full:
                ids.append(pk)
                break
    return ids


@extend_schema(tags=["organisation"])
class UnitListView(generics.ListAPIView):
    serializer_class = UnitSerializer
    pagination_class = TreeOrderPagination

    def get_queryset(self):
        queryset = selectors.units()
        request = self.request
        parent = int_param(request, "parent")
        if parent is not None:
            queryset = queryset.filter(parent_id=parent)
        root = int_param(request, "within")
        if root is not None:
            unit = unit_or_404(root)
            queryset = queryset.filter(path__startswith=unit.path)
        kind = choice_param(request, "kind", KINDS)
        if kind is not None:
            queryset = queryset.filter(kind=kind)
        active = bool_param(request, "is_active")
        if active is not None:
            queryset = queryset.filter(is_active=active)
        text = str_param(request, "q")
        if text is not None:
            match = Q(name__icontains=text) | Q(short_name__icontains=text) | Q(code__iexact=text)
            if PINYIN_QUERY.match(text.lower()):  # the exchange's recipient picker
                match |= Q(pk__in=_pinyin_matches(text.lower()))
            queryset = queryset.filter(match)
        return queryset

    @extend_schema(
        summary="List units (the whole tree, in tree order)",
        parameters=[
            OpenApiParameter("parent", int, description="only the children of this unit"),
            OpenApiParameter("within", int, description="only this unit and its subtree"),
            OpenApiParameter("kind", str, enum=KINDS),
            OpenApiParameter("is_active", bool),
            OpenApiParameter(
                "q",
                str,
                description="name or short name contains; or exact code; or the start of "
                "pinyin of the name (full or initials, lower-case letters, contained)",
            ),
        ],
        responses={200: UnitSerializer(many=True), **errors(ERR_400, ERR_404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a child unit (admin of the parent's subtree, or city IT admin)",
        request=UnitCreateSerializer,
        responses={201: UnitSerializer, **errors(ERR_400, ERR_403)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = UnitCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        parent = unit_for_field(values.pop("parent_id"), "parent_id")
        unit = actions.create_unit(current_user(request), parent=parent, **values)
        return Response(UnitSerializer(unit).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["organisation"])
class UnitDetailView(generics.GenericAPIView):
    serializer_class = UnitSerializer

    @extend_schema(summary="One unit", responses={200: UnitSerializer, **errors(ERR_404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(UnitSerializer(unit_or_404(pk)).data)

    @extend_schema(
        summary="Rename/reconfigure a unit; move it (parent_id) — city IT admin only",
        request=UnitUpdateSerializer,
        responses={200: UnitSerializer, **errors(ERR_400, ERR_403, ERR_404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        unit = unit_or_404(pk)
        data = UnitUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "parent_id" in changes:
            changes["parent"] = unit_for_field(changes.pop("parent_id"), "parent_id")
        unit = actions.update_unit(current_user(request), unit, changes)
        return Response(UnitSerializer(unit).data)


@extend_schema(tags=["organisation"])
class UnitChildrenView(generics.ListAPIView):
    serializer_class = UnitSerializer
    pagination_class = TreeOrderPagination

    def get_queryset(self):
        return selectors.children(unit_or_404(self.kwargs["pk"]))

    @extend_schema(
        summary="Direct children of a unit",
        responses={200: UnitSerializer(many=True), **errors(ERR_404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["organisation"])
class UnitMembersView(generics.ListAPIView):
    serializer_class = MemberSerializer
    pagination_class = UsernamePagination

    def get_queryset(self):
        unit = unit_or_404(self.kwargs["pk"])
        actor = current_user(self.request)
        actions.check_can_see_people(actor, unit, "unit.members")
        subtree = bool_param(self.request, "subtree") or False
        return selectors.members(unit, include_subtree=subtree, whole=has_full_view(actor, unit))

    @extend_schema(
        summary="People of a unit (members, its admins, city IT admins, supervisors)",
        parameters=[
            OpenApiParameter(
                "subtree",
                bool,
                description="include the units below: all of them for admins and "
                "supervisors, the unit's own departments for its members",
            )
        ],
        responses={200: MemberSerializer(many=True), **errors(ERR_400, ERR_404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
