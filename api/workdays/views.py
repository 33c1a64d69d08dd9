"""Calendar endpoints (docs/workdays.md#api).

* ``GET /api/v1/calendar/?from=&to=`` — every day of a range (at most 400 days):
  working or not, why, and the holiday name. Any signed-in user.
* ``GET/POST /api/v1/calendar/overrides/`` and ``DELETE
  /api/v1/calendar/overrides/{date}/`` — the override table: everyone signed in
  reads it; only a city IT admin changes it (403, audited, for anyone else).
* ``GET/POST /api/v1/calendar/arrangements/`` — the imported State Council yearly
  arrangements (import: city IT admin; replaces that year's overrides at once).

``GET /api/v1/calendar/`` also carries ``warnings`` when the current or next year has
no published arrangement (api/workdays/arrangements.py).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.common.auth import current_user
from api.common.errors import ApiError, NotFound
from api.common.i18n import t
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.params import date_param
from api.common.schema import ERR_400, ERR_403, ERR_404, error_response, errors
from api.common.serializers import StrictSerializer
from api.workdays import actions, arrangements
from api.workdays.calendar import days_between
from api.workdays.deadlines import TZ
from api.workdays.models import CalendarOverride, HolidayArrangement, OverrideKind

TAGS = ["calendar"]
MAX_RANGE_DAYS = 400
DEFAULT_RANGE_DAYS = 42  # six weeks: a month view with its edges


class CalendarDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    working = serializers.BooleanField()
    kind = serializers.ChoiceField(
        choices=["workday", "weekend", "holiday", "makeup"],
        help_text="makeup: a 调休 working Saturday/Sunday",
    )
    # A declared field named like Field.source: DRF's metaclass moves it into
    # _declared_fields, so the attribute never shadows anything at run time.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=["rule", "official", "override"],
        help_text="rule: Mon–Fri/weekend; official: the State Council calendar (holidays "
        "package); override: the admin table",
    )
    name = serializers.CharField(allow_blank=True)


class CalendarWarningSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["holiday_arrangement_missing"])
    year = serializers.IntegerField()
    message = serializers.CharField()


class CalendarSerializer(serializers.Serializer):
    to = serializers.DateField()
    days = CalendarDaySerializer(many=True)
    warnings = CalendarWarningSerializer(
        many=True,
        help_text="the current or next year has no published State Council arrangement "
        "(docs/workdays.md#yearly-arrangement); empty when all is well",
    )

    def get_fields(self):
        # "from" is a Python keyword: declared here so the schema names it exactly.
        return {"from": serializers.DateField(), **super().get_fields()}


class OverrideSerializer(serializers.ModelSerializer):
    class Meta:
        model = CalendarOverride
        fields = ["id", "date", "kind", "name", "created_at"]


class OverrideCreateSerializer(StrictSerializer):
    date = serializers.DateField()
    kind = serializers.ChoiceField(choices=OverrideKind.choices)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


def _parse_day(raw: str) -> date:
    try:
        if len(raw) != 10:
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise NotFound() from None


class CalendarView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Working and non-working days of a date range",
        description="Inclusive range, at most 400 days; defaults: from = today "
        "(Asia/Shanghai), to = from + 41 days.",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="first day (YYYY-MM-DD)"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="last day (YYYY-MM-DD)"),
        ],
        responses={200: CalendarSerializer, **errors(ERR_400)},
        examples=[
            OpenApiExample(
                "National Day 2026",
                value={
                    "from": "2026-10-07",
                    "to": "2026-10-08",
                    "days": [
                        {
                            "date": "2026-10-07",
                            "working": False,
                            "kind": "holiday",
                            "source": "official",
                            "name": "休息日（由 2026-10-10 调休）",
                        },
                        {
                            "date": "2026-10-08",
                            "working": True,
                            "kind": "workday",
                            "source": "rule",
                            "name": "",
                        },
                    ],
                    "warnings": [],
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        first = date_param(request, "from") or datetime.now(TZ).date()
        last = date_param(request, "to") or first + timedelta(days=DEFAULT_RANGE_DAYS - 1)
        if last < first:
            raise ApiError(
                "validation_error",
                fields={"to": [t("结束日期不能早于开始日期。", "to must not be before from.")]},
            )
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise ApiError(
                "validation_error",
                fields={
                    "to": [
                        t(
                            f"一次最多查询 {MAX_RANGE_DAYS} 天。",
                            f"At most {MAX_RANGE_DAYS} days per request.",
                        )
                    ]
                },
            )
        days = [
            {
                "date": d.date,
                "working": d.working,
                "kind": d.kind,
                "source": d.source,
                "name": d.name,
            }
            for d in days_between(first, last)
        ]
        body = {"from": first, "to": last, "days": days, "warnings": arrangements.warnings()}
        return Response(CalendarSerializer(body).data)


class OverridePagination(CursorPagination):
    ordering = "date"


class OverrideListView(generics.ListAPIView):
    serializer_class = OverrideSerializer
    pagination_class = OverridePagination

    def get_queryset(self):
        queryset = CalendarOverride.objects.all()
        year = self.request.query_params.get("year")
        if year is not None:
            if not (year.isascii() and year.isdigit() and len(year) == 4):
                raise ApiError(
                    "validation_error", fields={"year": [t("年份须为四位数字。", "Use YYYY.")]}
                )
            queryset = queryset.filter(date__year=int(year))
        return queryset

    @extend_schema(
        tags=TAGS,
        summary="The calendar override table (ordered by date)",
        parameters=[OpenApiParameter("year", OpenApiTypes.INT, description="only this year")],
        responses={200: OverrideSerializer(many=True), **errors(ERR_400)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAGS,
        summary="Add an override (city IT admin)",
        description="holiday: the date is not a working day; workday: it is (e.g. a 调休 "
        "make-up Saturday). Wins over the official calendar and the weekend. "
        "409 calendar_override_exists when the date already has one.",
        request=OverrideCreateSerializer,
        examples=[
            OpenApiExample(
                "A 2027 make-up Saturday",
                value={"date": "2027-02-20", "kind": "workday", "name": "春节调休上班"},
                request_only=True,
            )
        ],
        responses={
            201: OverrideSerializer,
            **errors(ERR_400, ERR_403, {409: error_response("calendar_override_exists")}),
        },
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = OverrideCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        override = actions.add_override(
            current_user(request), day=values["date"], kind=values["kind"], name=values["name"]
        )
        return Response(OverrideSerializer(override).data, status=status.HTTP_201_CREATED)


class OverrideDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Remove the override of a date (city IT admin)",
        parameters=[OpenApiParameter("day", OpenApiTypes.DATE, OpenApiParameter.PATH)],
        responses={204: None, **errors(ERR_403, ERR_404)},
    )
    def delete(self, request: Request, day: str) -> Response:
        actions.remove_override(current_user(request), day=_parse_day(day))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ArrangementSerializer(serializers.ModelSerializer):
    class Meta:
        model = HolidayArrangement
        fields = ["id", "year", "notice", "day_count", "imported_at"]


class ArrangementDaySerializer(StrictSerializer):
    date = serializers.DateField()
    kind = serializers.ChoiceField(choices=OverrideKind.choices)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class ArrangementImportSerializer(StrictSerializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    notice = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    days = ArrangementDaySerializer(many=True, allow_empty=False)  # at most 366: the action


class ArrangementListView(generics.ListAPIView):
    serializer_class = ArrangementSerializer
    pagination_class = None
    queryset = HolidayArrangement.objects.all()

    @extend_schema(
        tags=TAGS,
        summary="Imported State Council yearly arrangements (by year)",
        responses={200: ArrangementSerializer(many=True)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAGS,
        summary="Import a year's State Council holiday arrangement (city IT admin)",
        description="Replaces every override of `year` with `days` (each date in `year`, "
        "no date twice, at least one holiday) in one transaction, audited as "
        "calendar.arrangement_imported (with the overrides it removed). `holiday`: a day "
        "off of the notice (list every day of each holiday run, weekends included); "
        "`workday`: a 调休 make-up working day. Importing again replaces the year again.",
        request=ArrangementImportSerializer,
        examples=[
            OpenApiExample(
                "Spring Festival 2027 (part)",
                value={
                    "year": 2027,
                    "notice": "国务院办公厅关于2027年部分节假日安排的通知",
                    "days": [
                        {"date": "2027-02-06", "kind": "holiday", "name": "春节"},
                        {"date": "2027-02-07", "kind": "holiday", "name": "春节"},
                        {"date": "2027-02-20", "kind": "workday", "name": "春节调休上班"},
                    ],
                },
                request_only=True,
            )
        ],
        responses={201: ArrangementSerializer, **errors(ERR_400, ERR_403)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = ArrangementImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        arrangement = arrangements.import_arrangement(
            current_user(request),
            year=values["year"],
            days=values["days"],
            notice=values["notice"],
        )
        return Response(ArrangementSerializer(arrangement).data, status=status.HTTP_201_CREATED)
