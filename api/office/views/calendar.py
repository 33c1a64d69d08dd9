"""Schedule (日程) API: ``/api/v1/calendar/…`` (docs/personal-office.md#api).

``GET events/?user=`` is the person's schedule in a window (occurrences of recurring
events expanded; bounded by the window — at most 62 days — instead of paginated),
as the caller may see it: in full, or busy blocks without titles. Secretaries
(``keep``) add and change a leader's events with ``owner``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.models import User
from api.audit.recorder import record_denied
from api.common.errors import ApiError, NotFound
from api.common.i18n import t
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.params import int_param, str_param
from api.common.people import person_ref
from api.common.schema import ERR_400, ERR_404, ERR_409, errors
from api.common.serializers import StrictSerializer
from api.office import actions, ical, selectors
from api.office.models import AccessLevel, ScheduleAccess
from api.office.views.common import IDEMPOTENCY, PAGE, path_id, user_of, validated, window_params

TAGS = ["calendar"]
MAX_FREEBUSY_USERS = 50


class CalendarPersonRef(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class CalendarEntrySerializer(serializers.Serializer):
    source = serializers.CharField(  # type: ignore[assignment]
        help_text="event, busy, document_deadline, meeting, …"
    )
    source_id = serializers.CharField()
    event_id = serializers.IntegerField(allow_null=True)
    title = serializers.CharField(help_text="empty in a busy-only view")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    place = serializers.CharField()
    url = serializers.CharField()
    busy = serializers.BooleanField()
    rrule = serializers.CharField()
    all_day = serializers.BooleanField()
    attendees = CalendarPersonRef(many=True)
    notes = serializers.CharField()
    kept_by = CalendarPersonRef(allow_null=True, help_text="the secretary who added it")


class CalendarScheduleSerializer(serializers.Serializer):
    owner = CalendarPersonRef()
    access = serializers.CharField(help_text="own, keep, full or busy")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    results = CalendarEntrySerializer(many=True)


class CalendarEventWriteSerializer(StrictSerializer):
    owner = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        required=False,
        help_text="whose schedule (a secretary: the leader's id); default yourself",
    )
    title = serializers.CharField(max_length=200)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    place = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    all_day = serializers.BooleanField(required=False, default=False)
    rrule = serializers.CharField(
        max_length=400,
        required=False,
        allow_blank=True,
        default="",
        help_text="RFC 5545 RRULE value, e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10",
    )
    remind_minutes = serializers.IntegerField(
        min_value=0, max_value=10080, required=False, allow_null=True, default=None
    )
    attendees = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        default=list,
        max_length=200,
    )


class CalendarEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    uid = serializers.CharField()
    owner = CalendarPersonRef()
    created_by = CalendarPersonRef()
    title = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    place = serializers.CharField()
    notes = serializers.CharField()
    all_day = serializers.BooleanField()
    rrule = serializers.CharField()
    remind_minutes = serializers.IntegerField(allow_null=True)
    attendees = CalendarPersonRef(many=True)


class CalendarBusySerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class CalendarFreeBusySerializer(serializers.Serializer):
    user = CalendarPersonRef()
    visible = serializers.BooleanField(help_text="false: you may not see this person's schedule")
    busy = CalendarBusySerializer(many=True)


class CalendarAccessWriteSerializer(StrictSerializer):
    grantee = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    level = serializers.ChoiceField(choices=AccessLevel.values)


class CalendarAccessSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    grantee = CalendarPersonRef()
    level = serializers.CharField()


class CalendarAccessPageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = CalendarAccessSerializer(many=True)


class CalendarFeedSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="shown once")
    url = serializers.CharField()


class CalendarEmptySerializer(StrictSerializer):
    pass


def _event_item(event: Any) -> dict[str, Any]:
    return {
        "id": event.pk,
        "uid": event.uid,
        "owner": person_ref(event.owner),
        "created_by": person_ref(event.created_by),
        "title": event.title,
        "start": event.start,
        "end": event.end,
        "place": event.place,
        "notes": event.notes,
        "all_day": event.all_day,
        "rrule": event.rrule,
        "remind_minutes": event.remind_minutes,
        "attendees": [person_ref(row.user) for row in event.attendee_rows.select_related("user")],
    }


def _event_data(data: dict[str, Any]) -> actions.EventData:
    return actions.EventData(
        title=data["title"],
        start=data["start"],
        end=data["end"],
        place=data.get("place", ""),
        notes=data.get("notes", ""),
        all_day=data.get("all_day", False),
        rrule=data.get("rrule", ""),
        remind_minutes=data.get("remind_minutes"),
        attendees=data.get("attendees", []),
    )


class EventListView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="calendar_schedule",
        summary="A person's schedule in a window (yours by default)",
        description=(
            "`user`: whose schedule. Yourself, a leader whose schedule you keep or may see in "
            "full: every entry; a colleague of your body, or a person who granted you busy/free: "
            "busy blocks only (no title, place or attendees). Anyone else: 404. Recurring "
            "events are expanded; entries of the schedule sources (document deadlines, "
            "meetings) are merged. `start`/`end`: ISO 8601, default the next 7 days, at most 62."
        ),
        parameters=[
            OpenApiParameter("user", int),
            OpenApiParameter("start", OpenApiTypes.DATETIME),
            OpenApiParameter("end", OpenApiTypes.DATETIME),
        ],
        responses={200: CalendarScheduleSerializer, **errors(ERR_400, ERR_404)},
    )
    def get(self, request: Request) -> Response:
        viewer = user_of(request)
        start, end = window_params(request)
        owner_id = int_param(request, "user") or viewer.pk
        owner, level = selectors.schedule_owner_or_404(viewer, owner_id, "office.schedule_view")
        items = selectors.window(viewer, owner, level, start, end)
        return Response(
            CalendarScheduleSerializer(
                {
                    "owner": person_ref(owner),
                    "access": level,
                    "start": start,
                    "end": end,
                    "results": items,
                }
            ).data
        )

    @extend_schema(
        tags=TAGS,
        operation_id="calendar_events_create",
        summary="Add an event (to your schedule, or as secretary to a leader's)",
        parameters=[IDEMPOTENCY],
        request=CalendarEventWriteSerializer,
        responses={201: CalendarEventSerializer, **errors(ERR_400, ERR_404)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        actor = user_of(request)
        data = validated(CalendarEventWriteSerializer, request)
        owner = actor
        if data.get("owner") and data["owner"] != actor.pk:
            owner, level = selectors.schedule_owner_or_404(
                actor, data["owner"], "office.event_create"
            )
            if level != AccessLevel.KEEP:
                record_denied(
                    "office.event_create",
                    actor=actor,
                    object_type="accounts.user",
                    object_id=owner.pk,
                )
                raise NotFound()
        event = actions.create_event(actor, owner, _event_data(data))
        return Response(_event_item(event), status=status.HTTP_201_CREATED)


class EventDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="calendar_events_read",
        summary="One stored event",
        responses={200: CalendarEventSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_event_item(selectors.event_or_404(user_of(request), path_id(pk))))

    @extend_schema(
        tags=TAGS,
        operation_id="calendar_events_update",
        summary="Change an event (owner or secretary)",
        parameters=[IDEMPOTENCY],
        request=CalendarEventWriteSerializer,
        responses={200: CalendarEventSerializer, **errors(ERR_400, ERR_404)},
    )
    @idempotent
    def put(self, request: Request, pk: int) -> Response:
        actor = user_of(request)
        event = selectors.event_or_404(actor, path_id(pk), edit=True)
        data = validated(CalendarEventWriteSerializer, request)
        if data.get("owner") not in (None, event.owner_id):
            raise ApiError(
                "validation_error",
                fields={"owner": [t("不能改变日程所属人。", "The owner cannot change.")]},
            )
        return Response(_event_item(actions.update_event(actor, event.pk, _event_data(data))))

    @extend_schema(
        tags=TAGS,
        operation_id="calendar_events_cancel",
        summary="Cancel an event",
        request=None,
        responses={204: None, **errors(ERR_404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        actor = user_of(request)
        event = selectors.event_or_404(actor, path_id(pk), edit=True)
        actions.cancel_event(actor, event.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FreeBusyView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="calendar_freebusy",
        summary="Busy intervals of colleagues (for the people picker)",
        description=(
            "`users`: comma-separated ids (≤ 50). People you may not see: `visible: false`."
        ),
        parameters=[
            OpenApiParameter("users", str, required=True),
            OpenApiParameter("start", OpenApiTypes.DATETIME),
            OpenApiParameter("end", OpenApiTypes.DATETIME),
        ],
        responses={200: CalendarFreeBusySerializer(many=True), **errors(ERR_400)},
    )
    def get(self, request: Request) -> Response:
        viewer = user_of(request)
        start, end = window_params(request)
        raw = str_param(request, "users", max_length=1000) or ""
        try:
            ids = list(dict.fromkeys(int(part) for part in raw.split(",") if part.strip()))
        except ValueError:
            ids = []
        if not ids or len(ids) > MAX_FREEBUSY_USERS or any(not 0 < i < 2**63 for i in ids):
            raise ApiError(
                "validation_error",
                fields={"users": [t("1–50 个人员 id，以逗号分隔。", "1–50 comma-separated ids.")]},
            )
        people = {
            u.pk: u for u in User.objects.filter(pk__in=ids, is_active=True).select_related("unit")
        }
        result = []
        for user_id in ids:
            person = people.get(user_id)
            if person is None:
                continue
            visible = selectors.access_level(viewer, person) is not None
            result.append(
                {
                    "user": person_ref(person),
                    "visible": visible,
                    "busy": selectors.busy_blocks(person, start, end) if visible else [],
                }
            )
        return Response(CalendarFreeBusySerializer(result, many=True).data)


class AccessPagination(CursorPagination):
    ordering = "id"


class AccessListView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="calendar_access_list",
        summary="Who may keep or see your schedule",
        parameters=PAGE,
        responses={200: CalendarAccessPageSerializer, **errors()},
    )
    def get(self, request: Request) -> Response:
        paginator = AccessPagination()
        page = paginator.paginate_queryset(
            ScheduleAccess.objects.filter(owner=user_of(request)).select_related("grantee"),
            request,
            view=self,
        )
        return Response(
            {
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": [
                    {"id": a.pk, "grantee": person_ref(a.grantee), "level": a.level}
                    for a in page or []
                ],
            }
        )

    @extend_schema(
        tags=TAGS,
        operation_id="calendar_access_grant",
        summary="Let someone keep (secretary), see in full, or see busy/free of your schedule",
        parameters=[IDEMPOTENCY],
        request=CalendarAccessWriteSerializer,
        responses={201: CalendarAccessSerializer, **errors(ERR_400)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = validated(CalendarAccessWriteSerializer, request)
        access = actions.grant_access(user_of(request), data["grantee"], data["level"])
        return Response(
            {"id": access.pk, "grantee": person_ref(access.grantee), "level": access.level},
            status=status.HTTP_201_CREATED,
        )


class AccessDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="calendar_access_revoke",
        summary="Withdraw a grant",
        request=None,
        responses={204: None, **errors(ERR_404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        actions.revoke_access(user_of(request), path_id(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FeedTokenView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="calendar_feed_issue",
        summary="Issue your iCalendar feed URL (a new one ends the old)",
        parameters=[IDEMPOTENCY],
        request=CalendarEmptySerializer,
        responses={201: CalendarFeedSerializer, **errors(ERR_400)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        validated(CalendarEmptySerializer, request)
        token = actions.issue_feed_token(user_of(request))
        url = request.build_absolute_uri(f"/api/v1/calendar/feed/{token}.ics")
        return Response({"token": token, "url": url}, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=TAGS,
        operation_id="calendar_feed_revoke",
        summary="Revoke your feed URL",
        request=None,
        responses={204: None, **errors(ERR_409)},
    )
    def delete(self, request: Request) -> Response:
        actions.revoke_feed_token(user_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AnyAccept(BaseContentNegotiation):
    """A calendar app's Accept header (text/calendar) must not turn a 404 into a 406."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class FeedView(APIView):
    """The token in the path is the credential: no bearer token (a calendar app has none)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    content_negotiation_class = AnyAccept

    @extend_schema(
        tags=TAGS,
        operation_id="calendar_feed",
        summary="Your schedule as iCalendar (RFC 5545)",
        auth=[],
        responses={
            (200, "text/calendar"): OpenApiResponse(OpenApiTypes.STR),
            404: OpenApiResponse(description="unknown or revoked token"),
        },
    )
    def get(self, request: Request, token: str) -> HttpResponse:
        owner = ical.owner_of(token)
        if owner is None:
            record_denied("office.feed_view", object_type="office.feed", object_id="")
            raise NotFound()
        response = HttpResponse(ical.feed(owner), content_type="text/calendar; charset=utf-8")
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response
