"""The publishing flow over HTTP: submit, publish, return, withdraw; reading and the
publisher's view of who has read. Docs: docs/publishing.md#api."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit.recorder import record_denied
from api.common import params
from api.common.datetimes import client_datetime
from api.common.errors import Forbidden
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.schema import ERR_400, ERR_403, ERR_404, ERR_409, error_response, errors
from api.publishing import actions, selectors
from api.publishing.models import ReadReceipt
from api.publishing.serializers import (
    EmptySerializer,
    OpinionSerializer,
    PostDetailSerializer,
    ReadersSerializer,
    ReadSerializer,
    ReasonSerializer,
    unit_ref,
)
from api.publishing.views.common import (
    IDEMPOTENCY_HEADER,
    PAGE_PARAMETERS,
    TAGS,
    actor,
    path_id,
    validated,
)
from api.publishing.views.posts import detail_response

STATE_409 = {409: error_response("post_state_conflict: the post's state does not allow it")}


def _flow(summary: str, description: str, request_serializer: type, operation_id: str):
    return extend_schema(
        tags=TAGS,
        operation_id=operation_id,
        summary=summary,
        description=description,
        parameters=[IDEMPOTENCY_HEADER],
        request=request_serializer,
        responses={200: PostDetailSerializer, **errors(ERR_400, ERR_403, ERR_404, STATE_409)},
    )


class SubmitView(APIView):
    @_flow(
        "Send a draft to the unit's publisher for review (待审核)",
        "By the author. From draft or returned.",
        EmptySerializer,
        "posts_submit",
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        validated(EmptySerializer, request)
        post = actions.submit_post(path_id(pk), actor(request))
        return Response(detail_response(actor(request), post))


class PublishView(APIView):
    @_flow(
        "Approve and publish (发布)",
        "By a publisher of the author unit, from draft or under review. The audience sees "
        "it at once; a must-read gets one unread receipt per person of the audience.",
        OpinionSerializer,
        "posts_publish",
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated(OpinionSerializer, request)
        post = actions.publish_post(path_id(pk), actor(request), data.get("opinion", ""))
        return Response(detail_response(actor(request), post))


class ReturnView(APIView):
    @_flow(
        "Return a post under review to its author with an opinion (退回)",
        "By a publisher of the author unit; `opinion` required.",
        OpinionSerializer,
        "posts_return",
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated(OpinionSerializer, request)
        post = actions.return_post(path_id(pk), actor(request), data.get("opinion", ""))
        return Response(detail_response(actor(request), post))


class WithdrawView(APIView):
    @_flow(
        "Withdraw a published post (撤稿) with a reason",
        "By a publisher of the author unit. Readers get 404 afterwards.",
        ReasonSerializer,
        "posts_withdraw",
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated(ReasonSerializer, request)
        post = actions.withdraw_post(path_id(pk), actor(request), data["reason"])
        return Response(detail_response(actor(request), post))


class ReadView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="posts_read",
        summary="Mark a post read (已阅); the first time counts",
        parameters=[IDEMPOTENCY_HEADER],
        request=EmptySerializer,
        responses={200: ReadSerializer, **errors(ERR_400, ERR_404)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        validated(EmptySerializer, request)
        receipt = actions.mark_read(path_id(pk), actor(request))
        return Response({"post_id": receipt.post_id, "read_at": client_datetime(receipt.read_at)})


class ReaderPagination(CursorPagination):
    ordering = "id"


class ReadersView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="posts_readers",
        summary="Reading progress of a post: totals, by unit, and who (publisher's view)",
        description="For the author and the publishers of the author unit. `state=unread` "
        "lists those who have not read it, `read` those who have.",
        parameters=[
            OpenApiParameter("state", str, enum=["all", "read", "unread"], default="all"),
            OpenApiParameter("unit", int),
            *PAGE_PARAMETERS,
        ],
        responses={200: ReadersSerializer, **errors(ERR_400, ERR_403, ERR_404, ERR_409)},
    )
    def get(self, request: Request, pk: int) -> Response:
        user = actor(request)
        post = selectors.post_or_404(user, path_id(pk), "post.readers")
        if post.author_id != user.pk and not selectors.is_publisher(user, post.author_unit):
            record_denied("post.readers", actor=user, obj=post, detail={"reason": "not_author"})
            raise Forbidden()
        state = params.choice_param(request, "state", ["all", "read", "unread"]) or "all"
        unit_id = params.int_param(request, "unit")
        queryset = ReadReceipt.objects.filter(post=post).select_related("user", "unit")
        if state != "all":
            queryset = queryset.filter(read_at__isnull=state == "unread")
        if unit_id is not None:
            queryset = queryset.filter(unit_id=unit_id)
        paginator = ReaderPagination()
        page = paginator.paginate_queryset(queryset, request, view=self) or []
        return Response(
            {
                **selectors.reading_progress(post),
                "by_unit": selectors.progress_by_unit(post),
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": [
                    {
                        "id": r.user_id,
                        "display_name": r.user.display_name,
                        "unit": unit_ref(r.unit),
                        "read_at": client_datetime(r.read_at),
                    }
                    for r in page
                ],
            }
        )
