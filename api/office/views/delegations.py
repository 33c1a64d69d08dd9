"""The person's delegations view (docs/personal-office.md#delegations): their
absences, the posts they hold with their backups, the posts they back up, and whom
they act for now. Read-only; absences are changed through /api/v1/absences/."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.delegation import absence_in_effect
from api.accounts.models import Absence, Post
from api.common.people import person_ref
from api.common.schema import errors
from api.office.views.common import user_of


class DelegationsSerializer(serializers.Serializer):
    away_now = serializers.BooleanField()
    absences = serializers.ListField(child=serializers.DictField())
    posts = serializers.ListField(
        child=serializers.DictField(), help_text="posts held, with the backup"
    )
    backing_up = serializers.ListField(
        child=serializers.DictField(), help_text="posts whose holder you back up"
    )


class DelegationsView(APIView):
    @extend_schema(
        tags=["office"],
        operation_id="office_delegations",
        summary="Your A/B delegations at a glance",
        responses={200: DelegationsSerializer, **errors()},
    )
    def get(self, request: Request) -> Response:
        user = user_of(request)
        absences = Absence.objects.filter(user=user, cancelled_at__isnull=True).order_by(
            "-starts_at"
        )[:20]
        held = Post.objects.filter(holder=user).select_related("unit", "backup")
        backing = Post.objects.filter(backup=user).select_related("unit", "holder")
        return Response(
            {
                "away_now": absence_in_effect(user) is not None,
                "absences": [
                    {"id": a.pk, "starts_at": a.starts_at, "ends_at": a.ends_at, "reason": a.reason}
                    for a in absences
                ],
                "posts": [
                    {
                        "id": p.pk,
                        "name": p.name,
                        "unit": p.unit.name,
                        "backup": person_ref(p.backup),
                    }
                    for p in held
                ],
                "backing_up": [
                    {
                        "id": p.pk,
                        "name": p.name,
                        "unit": p.unit.name,
                        "holder": person_ref(p.holder),
                        "holder_away_now": bool(p.holder and absence_in_effect(p.holder)),
                    }
                    for p in backing
                ],
            }
        )
