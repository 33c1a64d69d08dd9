"""The people picker: ``GET /api/v1/users/?q=`` (docs/mobile-api.md#people-picker).

Used when a clerk chooses countersigners, the signer, a transfer target: everyone
signed in may find every *active* person of the city by name, pinyin (full or
initials: ``zs`` or ``zhang`` finds 张三), username, unit, post or title. Only what a
picker needs is shown (no mobile number, no roles). At most 20 results, the caller's
own unit first, then in tree order; ``unit=<id>`` narrows to that unit's subtree.

Pinyin is computed with pypinyin from the display name in Python
(`api.accounts.selectors.pinyin_of`, shared with the office address book; names are short and
cached per name), so no database column has to be kept in step: a pinyin query reads
the active people's (id, name) pairs in one query and the matching ids go into the
main query. Four queries in all (scan, ids, people, posts), whatever the number of
people or results.
"""

from __future__ import annotations

from django.db.models import Case, IntegerField, Prefetch, Q, Value, When
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.models import Post, User
from api.accounts.selectors import PINYIN_QUERY, people_matching_pinyin, pinyin_of
from api.accounts.views.org_common import (
    ERR_400,
    errors,
    unit_or_404,
)
from api.common.auth import current_user
from api.common.params import int_param, str_param

MAX_RESULTS = 20


class PersonUnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    initials = serializers.CharField(help_text="pinyin initials of the name, e.g. zs")
    title = serializers.CharField(help_text="职务")
    unit = PersonUnitSerializer()
    posts = serializers.ListField(child=serializers.CharField(), help_text="posts held")


def _person(user: User) -> dict:
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.display_name,
        "initials": pinyin_of(user.display_name)[0],
        "title": user.title,
        "unit": {"id": user.unit_id, "name": user.unit.name},
        "posts": [post.name for post in user.held_posts.all()],
    }


class PeoplePickerView(APIView):
    """Find people to route a document to."""

    @extend_schema(
        tags=["organisation"],
        operation_id="people_picker",
        summary="People picker: find people by name, pinyin, unit or post (max 20)",
        description=(
            "Every signed-in person may search every active person. `q` matches the "
            "display name, the pinyin of the name (initials `zs` or full `zhangsan`, "
            "as a prefix), the username (prefix), the unit name, a post held or the "
            "title. Without `q`: people of the caller's unit. The caller's own unit "
            "comes first. Not paginated: at most 20 results; refine the query."
        ),
        parameters=[
            OpenApiParameter("q", str, description="1–32 characters"),
            OpenApiParameter("unit", int, description="only this unit and its subunits"),
        ],
        responses={200: PersonSerializer(many=True), **errors(ERR_400)},
        examples=[
            OpenApiExample(
                "Pinyin initials",
                response_only=True,
                value=[
                    {
                        "id": 12,
                        "username": "leader1",
                        "display_name": "王建国",
                        "initials": "wjg",
                        "title": "副市长",
                        "unit": {"id": 3, "name": "新城市人民政府"},
                        "posts": ["分管副市长"],
                    }
                ],
            )
        ],
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        query = (str_param(request, "q", max_length=32) or "").strip()
        queryset = User.objects.filter(is_active=True)
        unit_id = int_param(request, "unit")
        if unit_id is not None:
            queryset = queryset.filter(unit__path__startswith=unit_or_404(unit_id).path)
        if query:
            match = (
                Q(display_name__icontains=query)
                | Q(username__istartswith=query)
                | Q(title__icontains=query)
                | Q(unit__name__icontains=query)
                | Q(unit__short_name__icontains=query)
                | Q(held_posts__name__icontains=query)
            )
            lowered = query.lower()
            if PINYIN_QUERY.match(lowered):
                match |= Q(pk__in=people_matching_pinyin(lowered))
            queryset = queryset.filter(match)
        elif unit_id is None:
            queryset = queryset.filter(unit_id=user.unit_id)
        ids = list(
            queryset.annotate(
                own=Case(
                    When(unit_id=user.unit_id, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
            )
            .order_by("own", "unit__path", "display_name", "id")
            .values_list("id", flat=True)
            .distinct()[: MAX_RESULTS * 4]
        )
        # distinct() over a join can repeat ids in order; keep the first 20 unique.
        wanted = list(dict.fromkeys(ids))[:MAX_RESULTS]
        people = {
            person.pk: person
            for person in User.objects.filter(pk__in=wanted)
            .select_related("unit")
            .prefetch_related(Prefetch("held_posts", queryset=Post.objects.order_by("name")))
        }
        return Response(PersonSerializer([_person(people[pk]) for pk in wanted], many=True).data)
