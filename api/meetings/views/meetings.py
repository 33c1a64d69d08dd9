"""The meetings API under /api/v1/meetings/. Docs: docs/meetings.md#api.

Thin views: every change is a function of api/meetings/actions.py; who may see what is
api/meetings/selectors.py. A meeting the caller may not see is a 404 (recorded).
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.models import User
from api.common.auth import current_user
from api.common.errors import NotFound
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.schema import ERR_400, ERR_403, ERR_404, ERR_409, error_response, errors
from api.common.serializers import validated_body
from api.meetings import actions, rooms, selectors
from api.meetings.attendance import attendance_summary
from api.meetings.models import Material, Meeting
from api.meetings.serializers import (
    AttendanceSerializer,
    CancelInSerializer,
    EmptySerializer,
    JoinSerializer,
    LockInSerializer,
    MaterialSerializer,
    MaterialUploadSerializer,
    MeetingCreateSerializer,
    MeetingDetailSerializer,
    MeetingFilterSerializer,
    MeetingSerializer,
    MeetingUpdateSerializer,
    MinutesSerializer,
    MuteInSerializer,
    MuteSerializer,
    NominateInSerializer,
    ParticipantSerializer,
    SigninInSerializer,
)

TAGS = ["meetings"]
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="8–128 characters; a repeat returns the first response (docs/api.md#idempotency).",
)
ERR_STATE = {409: error_response("meeting_ended / meeting_cancelled / meeting_not_open")}
ERR_VIDEO = {503: error_response("video_unavailable — Janus is not configured or not reachable")}


def _detail(user: User, meeting_id: int, status: int = 200) -> Response:
    meeting = selectors.with_related(Meeting.objects.filter(pk=meeting_id)).get()
    context = {
        "manage": {meeting.pk: selectors.is_organiser(user, meeting)},
        "video": rooms.configured(),
        "participants": list(selectors.participants(meeting)),
        "materials": list(meeting.materials.filter(removed_at__isnull=True)),
    }
    return Response(MeetingDetailSerializer(meeting, context=context).data, status=status)


class MeetingListView(generics.GenericAPIView):
    serializer_class = MeetingSerializer
    pagination_class = CursorPagination

    @extend_schema(
        tags=TAGS,
        operation_id="meetings_list",
        summary="Meetings I host, attend, organise or must name attendees for",
        parameters=[OpenApiParameter("state", str, enum=["scheduled", "ended", "cancelled"])],
        responses={200: MeetingSerializer(many=True), **errors(ERR_400)},
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        params = MeetingFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = cast(dict[str, Any], params.validated_data)
        meetings = selectors.visible_meetings(user)
        if "state" in query:
            meetings = meetings.filter(state=query["state"])
        page = self.paginate_queryset(selectors.with_related(meetings))
        manage = {m.pk: selectors.is_organiser(user, m) for m in page or []}
        context = {"manage": manage, "video": rooms.configured()}
        return self.get_paginated_response(MeetingSerializer(page, many=True, context=context).data)

    @extend_schema(
        tags=TAGS,
        operation_id="meetings_create",
        summary="Schedule a meeting; participants and invited units are notified",
        parameters=[IDEMPOTENCY_HEADER],
        request=MeetingCreateSerializer,
        responses={201: MeetingDetailSerializer, **errors(ERR_400)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = validated_body(MeetingCreateSerializer, request)
        meeting = actions.schedule_meeting(current_user(request), **data)
        return _detail(current_user(request), meeting.pk, status=201)


class MeetingDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="meetings_retrieve",
        summary="One meeting with its participants and materials",
        responses={200: MeetingDetailSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        meeting = selectors.meeting_or_404(current_user(request), pk)
        return _detail(current_user(request), meeting.pk)

    @extend_schema(
        tags=TAGS,
        operation_id="meetings_update",
        summary="Change a meeting (organisers); everyone invited is notified",
        parameters=[IDEMPOTENCY_HEADER],
        request=MeetingUpdateSerializer,
        responses={200: MeetingDetailSerializer, **errors(ERR_400, ERR_403, ERR_404, ERR_STATE)},
    )
    @idempotent
    def patch(self, request: Request, pk: int) -> Response:
        data = validated_body(MeetingUpdateSerializer, request)
        meeting = actions.update_meeting(pk, current_user(request), **data)
        return _detail(current_user(request), meeting.pk)


def _simple_post(operation: str, summary: str, request_serializer: type = EmptySerializer):
    return extend_schema(
        tags=TAGS,
        operation_id=operation,
        summary=summary,
        parameters=[IDEMPOTENCY_HEADER],
        request=request_serializer,
        responses={200: MeetingDetailSerializer, **errors(ERR_400, ERR_403, ERR_404, ERR_STATE)},
    )


class CancelView(APIView):
    @_simple_post(
        "meetings_cancel", "Cancel a meeting (organisers); everyone is notified", CancelInSerializer
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(CancelInSerializer, request)
        meeting = actions.cancel_meeting(pk, current_user(request), data.get("reason", ""))
        return _detail(current_user(request), meeting.pk)


class EndView(APIView):
    @_simple_post("meetings_end", "End the meeting for all (organisers): the room is destroyed")
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        validated_body(EmptySerializer, request)
        meeting = actions.end_meeting(pk, current_user(request))
        return _detail(current_user(request), meeting.pk)


class LockView(APIView):
    @_simple_post("meetings_lock", "Lock or unlock the room (organisers)", LockInSerializer)
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(LockInSerializer, request)
        meeting = actions.set_locked(pk, current_user(request), data["locked"])
        return _detail(current_user(request), meeting.pk)


class NominateView(APIView):
    @_simple_post(
        "meetings_attendees_name",
        "An invited unit's admin or clerk names its attendees",
        NominateInSerializer,
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(NominateInSerializer, request)
        meeting = actions.nominate_attendees(
            pk, current_user(request), data["unit_id"], data["user_ids"]
        )
        return _detail(current_user(request), meeting.pk)


class RemoveParticipantView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="meetings_participants_remove",
        summary="Remove a participant (organisers): token revoked, kicked from the room",
        parameters=[IDEMPOTENCY_HEADER],
        request=EmptySerializer,
        responses={200: ParticipantSerializer, **errors(ERR_400, ERR_403, ERR_404, ERR_STATE)},
    )
    @idempotent
    def post(self, request: Request, pk: int, participant_id: int) -> Response:
        validated_body(EmptySerializer, request)
        person = actions.remove_participant(pk, current_user(request), participant_id)
        person = selectors.participants(person.meeting).get(pk=person.pk)
        return Response(ParticipantSerializer(person).data)


class MuteParticipantView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="meetings_participants_mute",
        summary="Mute or unmute a participant's microphone for the room (organisers)",
        parameters=[IDEMPOTENCY_HEADER],
        request=MuteInSerializer,
        responses={200: MuteSerializer, **errors(ERR_400, ERR_403, ERR_404, ERR_STATE, ERR_VIDEO)},
    )
    @idempotent
    def post(self, request: Request, pk: int, participant_id: int) -> Response:
        data = validated_body(MuteInSerializer, request)
        changed = actions.mute_participant(pk, current_user(request), participant_id, data["muted"])
        return Response(
            MuteSerializer(
                {"participant_id": participant_id, "muted": data["muted"], "streams": changed}
            ).data
        )


class SigninView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="meetings_signin",
        summary="On-site sign-in (签到) with the code shown in the room",
        parameters=[IDEMPOTENCY_HEADER],
        request=SigninInSerializer,
        responses={
            200: ParticipantSerializer,
            **errors(ERR_400, ERR_403, ERR_404, ERR_STATE),
        },
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(SigninInSerializer, request)
        person = actions.sign_in(pk, current_user(request), data["code"])
        person = selectors.participants(person.meeting).get(pk=person.pk)
        return Response(ParticipantSerializer(person).data)


def _ice_servers() -> list[dict[str, Any]]:
    servers = []
    for url in settings.GOVDESK_JANUS_ICE_SERVERS:
        entry: dict[str, Any] = {"urls": url}
        if url.startswith(("turn:", "turns:")) and settings.GOVDESK_JANUS_TURN_USERNAME:
            entry["username"] = settings.GOVDESK_JANUS_TURN_USERNAME
            entry["credential"] = settings.GOVDESK_JANUS_TURN_PASSWORD
        servers.append(entry)
    return servers


class JoinView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="meetings_join",
        summary="What an invited person needs to enter the video room",
        description="Janus server URLs, the room, its PIN and a Janus token valid for "
        "the meeting's time window. Never the admin secret. Anyone not invited: 404.",
        parameters=[IDEMPOTENCY_HEADER],
        request=EmptySerializer,
        responses={200: JoinSerializer, **errors(ERR_400, ERR_404, ERR_STATE, ERR_VIDEO)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        validated_body(EmptySerializer, request)
        user = current_user(request)
        ticket = actions.join(pk, user)
        return Response(
            JoinSerializer(
                {
                    "meeting_id": ticket.meeting.pk,
                    "server": list(settings.GOVDESK_JANUS_CLIENT_URLS),
                    "room": ticket.meeting.janus_room,
                    "pin": ticket.meeting.room_pin,
                    "token": ticket.token,
                    "display": user.display_name,
                    "participant_id": ticket.participant.pk,
                    "expires_at": ticket.expires_at,
                    "ice_servers": _ice_servers(),
                }
            ).data
        )


class AttendanceView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="meetings_attendance",
        summary="The attendance record: sign-in, time in the room per participant",
        responses={200: AttendanceSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        meeting = selectors.meeting_or_404(current_user(request), pk)
        rows = attendance_summary(meeting)
        return Response(
            AttendanceSerializer(
                {"meeting_id": meeting.pk, "state": meeting.state, "rows": rows}
            ).data
        )


def _minutes(meeting: Meeting) -> Response:
    document = meeting.minutes_document
    return Response(
        MinutesSerializer(
            {
                "meeting_id": meeting.pk,
                "document_id": document.pk if document else None,
                "doc_type": document.doc_type if document else None,
                "status": document.status if document else None,
                "title": document.title if document else None,
            }
        ).data
    )


class MinutesView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="meetings_minutes_retrieve",
        summary="The meeting's 纪要 document, if drafted",
        responses={200: MinutesSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return _minutes(selectors.meeting_or_404(current_user(request), pk))

    @extend_schema(
        tags=TAGS,
        operation_id="meetings_minutes_draft",
        summary="Draft the 纪要 from the meeting (documents app) and link it",
        parameters=[IDEMPOTENCY_HEADER],
        request=EmptySerializer,
        responses={200: MinutesSerializer, **errors(ERR_400, ERR_403, ERR_404, ERR_409)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        validated_body(EmptySerializer, request)
        meeting = actions.draft_minutes(pk, current_user(request))
        return _minutes(selectors.with_related(Meeting.objects.filter(pk=meeting.pk)).get())


class MaterialsView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        tags=TAGS,
        operation_id="meetings_materials_add",
        summary="Add agenda papers or materials (organisers); content-checked",
        parameters=[IDEMPOTENCY_HEADER],
        request={"multipart/form-data": MaterialUploadSerializer},
        responses={
            201: MaterialSerializer,
            **errors(ERR_400, ERR_403, ERR_404, ERR_STATE),
            413: error_response("attachment_too_large"),
            415: error_response("attachment_type_refused"),
        },
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            MaterialUploadSerializer(data=request.data).is_valid(raise_exception=True)
        material = actions.add_material(pk, current_user(request), upload)
        return Response(MaterialSerializer(material).data, status=201)


class MaterialDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="meetings_materials_download",
        summary="Download one material (participants)",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            **errors(ERR_404),
        },
    )
    def get(self, request: Request, pk: int, material_id: int):
        from api.documents import attachments as files

        meeting = selectors.meeting_or_404(current_user(request), pk)
        material = Material.objects.filter(
            pk=material_id, meeting=meeting, removed_at__isnull=True
        ).first()
        if material is None:
            raise NotFound()
        path = files.path_for(material.storage_key)
        if not path.is_file():
            raise NotFound()
        return FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=material.original_name,
            content_type=material.content_type,
        )

    @extend_schema(
        tags=TAGS,
        operation_id="meetings_materials_remove",
        summary="Remove a material (organisers)",
        parameters=[IDEMPOTENCY_HEADER],
        responses={204: None, **errors(ERR_403, ERR_404)},
    )
    @idempotent
    def delete(self, request: Request, pk: int, material_id: int) -> Response:
        actions.remove_material(pk, current_user(request), material_id)
        return Response(status=204)
