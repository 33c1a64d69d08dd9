"""The city management API: city-wide case figures for leaders and supervisors.

Docs: docs/integrations.md#city-management. Anyone else is refused with 403 (recorded),
as the statistics API refuses people without a stats role (api/stats/access.py).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit.recorder import record_denied
from api.common.auth import current_user
from api.common.errors import Forbidden
from api.common.schema import ERR_403, errors
from api.integrations.citymgmt import selectors
from api.integrations.citymgmt.serializers import StatsSerializer

TAGS = ["integrations"]


class StatsView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="integrations_citymgmt_stats",
        summary="City management cases by category, district and state, with overdue",
        description="Leaders and supervisors: every case loaded from the digital city "
        "management system (数字城管). `overdue` counts open cases past their deadline. "
        "Others: 403.",
        responses={200: StatsSerializer, **errors(ERR_403)},
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        if not selectors.may_read(user):
            record_denied("citymgmt.stats", actor=user, detail={"reason": "no_role"})
            raise Forbidden()
        return Response(StatsSerializer(selectors.figures()).data)
