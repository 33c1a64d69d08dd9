"""Notes (便签) API: ``/api/v1/notes/`` (docs/personal-office.md#notes). Private:
another person's note is 404."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.schema import ERR_400, ERR_404, errors
from api.common.serializers import StrictSerializer
from api.office import actions, selectors
from api.office.views.common import IDEMPOTENCY, PAGE, path_id, user_of, validated

TAGS = ["notes"]


class NoteWriteSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    body = serializers.CharField(
        max_length=20_000, required=False, allow_blank=True, default="", trim_whitespace=False
    )
    remind_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class NoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    remind_at = serializers.DateTimeField(allow_null=True)
    reminded_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()


class NotePageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = NoteSerializer(many=True)


def _item(note: Any) -> dict[str, Any]:
    return {
        "id": note.pk,
        "title": note.title,
        "body": note.body,
        "remind_at": note.remind_at,
        "reminded_at": note.reminded_at,
        "updated_at": note.updated_at,
    }


class NotePagination(CursorPagination):
    ordering = "-id"


class NoteListView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="notes_list",
        summary="Your notes, newest first",
        parameters=PAGE,
        responses={200: NotePageSerializer, **errors()},
    )
    def get(self, request: Request) -> Response:
        paginator = NotePagination()
        page = paginator.paginate_queryset(selectors.notes_of(user_of(request)), request, view=self)
        return Response(
            {
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": [_item(n) for n in page or []],
            }
        )

    @extend_schema(
        tags=TAGS,
        operation_id="notes_create",
        summary="Write a note (optionally with a reminder)",
        parameters=[IDEMPOTENCY],
        request=NoteWriteSerializer,
        responses={201: NoteSerializer, **errors(ERR_400)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = validated(NoteWriteSerializer, request)
        note = actions.save_note(user_of(request), data["title"], data["body"], data["remind_at"])
        return Response(_item(note), status=status.HTTP_201_CREATED)


class NoteDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="notes_read",
        summary="One note",
        responses={200: NoteSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_item(selectors.note_or_404(user_of(request), path_id(pk))))

    @extend_schema(
        tags=TAGS,
        operation_id="notes_update",
        summary="Change a note",
        parameters=[IDEMPOTENCY],
        request=NoteWriteSerializer,
        responses={200: NoteSerializer, **errors(ERR_400, ERR_404)},
    )
    @idempotent
    def put(self, request: Request, pk: int) -> Response:
        user = user_of(request)
        note = selectors.note_or_404(user, path_id(pk))
        data = validated(NoteWriteSerializer, request)
        return Response(
            _item(actions.save_note(user, data["title"], data["body"], data["remind_at"], note.pk))
        )

    @extend_schema(
        tags=TAGS,
        operation_id="notes_delete",
        summary="Delete a note",
        request=None,
        responses={204: None, **errors(ERR_404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        user = user_of(request)
        note = selectors.note_or_404(user, path_id(pk))
        actions.delete_note(user, note.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
