"""The exchange API (公文交换): dispatch a sealed document, its per-recipient status, the
clerk's inbox, open / sign for / return a receipt, recall one, exchange groups.

Docs: docs/exchange.md#api. Thin views over api/exchange/actions.py (every state
change, atomic, audited) and selectors.py (who sees what). Another unit's receipt or
a document the caller may not see is a 404 (recorded); every POST accepts
``Idempotency-Key``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit.recorder import record_denied
from api.common.auth import current_user
from api.common.errors import ApiError, Forbidden, NotFound
from api.common.i18n import t
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.schema import (
    ERR_400,
    ERR_403,
    ERR_404,
    ERR_409,
    ERR_422,
    error_response,
    errors,
    page_parameters,
)
from api.common.serializers import validated_body
from api.documents.rendering.actions import pdf_path
from api.documents.selectors import document_or_404
from api.exchange import actions, selectors
from api.exchange.models import Dispatch, ReceiptState
from api.exchange.serializers import (
    DispatchRequestSerializer,
    DispatchSerializer,
    DispatchStatusSerializer,
    DistributeDefaultsSerializer,
    DistributeRequestSerializer,
    DistributeResultSerializer,
    EmptyRequestSerializer,
    GroupCreateSerializer,
    GroupPageSerializer,
    GroupSerializer,
    GroupUpdateSerializer,
    ReceiptPageSerializer,
    ReceiptSerializer,
    ReturnRequestSerializer,
    SignRequestSerializer,
    SignResultSerializer,
    dispatch_summary,
    group_item,
    receipt_item,
    unit_ref,
)
from api.workflow.task_results import same_or_reload, task_result

logger = logging.getLogger(__name__)

TAGS = ["exchange"]
MAX_ID = 2**63 - 1
STATES = [*ReceiptState.values, "all"]
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="8–128 characters; a repeat returns the first response with "
    "`Idempotent-Replayed: true`.",
)
PAGE_PARAMETERS = page_parameters()


def _path_id(value: int) -> int:
    if not 0 < int(value) <= MAX_ID:
        raise NotFound()
    return int(value)


def _state_param(request: Request, default: str | None) -> str | None:
    raw = request.query_params.get("state") or default
    if raw is None:
        return None
    if raw not in STATES:
        raise ApiError(
            "validation_error",
            fields={"state": [t("可选值：", "One of: ") + ", ".join(STATES)]},
        )
    return None if raw == "all" else raw


class ReceiptPagination(CursorPagination):
    ordering = "-id"


class DispatchReceiptPagination(CursorPagination):
    # In dispatch order: the 主送 units first, as they were listed.
    ordering = "id"


class DocumentDispatchView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="documents_dispatch_status",
        summary="Per-recipient status of a document's dispatch (sent, read, signed for, …)",
        description=(
            "For whoever may see the document (the sending unit). `dispatch` carries the "
            "counts per state; `results` are the receipts in dispatch order, cursor "
            "paginated; `state` filters them. 404 `not_dispatched` before the dispatch."
        ),
        parameters=[OpenApiParameter("state", str, enum=STATES, default="all"), *PAGE_PARAMETERS],
        responses={200: DispatchStatusSerializer, **errors(ERR_400, ERR_404)},
    )
    def get(self, request: Request, document_id: int) -> Response:
        user = current_user(request)
        document = document_or_404(user, _path_id(document_id))
        dispatch = (
            Dispatch.objects.select_related("sender_unit", "by", "rendering")
            .filter(document=document)
            .first()
        )
        if dispatch is None:
            raise ApiError("not_dispatched", status_code=404)
        state = _state_param(request, "all")
        paginator = DispatchReceiptPagination()
        page = paginator.paginate_queryset(
            selectors.dispatch_receipts(document, state), request, view=self
        )
        return Response(
            {
                "dispatch": dispatch_summary(dispatch),
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": [receipt_item(r) for r in page or []],
            }
        )

    @extend_schema(
        tags=TAGS,
        operation_id="documents_dispatch",
        summary="Dispatch (分发) a sealed outgoing document to many units at once",
        description=(
            "By a clerk or unit admin of the document's unit. The dispatch and one "
            "receipt per unit are written in one transaction; the receiving clerks are "
            "notified by the worker (202: `state` is `sending` until then). Codes: "
            "403 permission_denied, 404 not_found, 422 document_not_outgoing, "
            "409 document_not_sealed, 409 document_not_final (draft, returned or "
            "withdrawn since it was sealed), 409 already_dispatched, 400 unit_not_found / "
            "unit_not_exchange_enabled / recipient_duplicated / own_unit_recipient / "
            "group_not_found (with `fields` and `unit_ids` naming the ids)."
        ),
        parameters=[IDEMPOTENCY_HEADER],
        request=DispatchRequestSerializer,
        responses={
            202: DispatchSerializer,
            **errors(
                ERR_400,
                ERR_403,
                ERR_404,
                {
                    409: error_response(
                        "document_not_sealed / document_not_final / already_dispatched"
                    )
                },
                ERR_422,
            ),
        },
        examples=[
            OpenApiExample(
                "Two main recipients, one copy, and a group",
                value={"to_units": [6, 9], "cc_units": [12], "groups": [1]},
                request_only=True,
            )
        ],
    )
    @idempotent
    def post(self, request: Request, document_id: int) -> Response:
        data = validated_body(DispatchRequestSerializer, request)
        dispatch = actions.dispatch_document(
            _path_id(document_id),
            current_user(request),
            to_units=data["to_units"],
            cc_units=data["cc_units"],
            group_ids=data["groups"],
        )
        return Response(_dispatch_answer(dispatch.pk), status=status.HTTP_202_ACCEPTED)


def _dispatch_answer(dispatch_id: int) -> dict[str, Any]:
    dispatch = Dispatch.objects.select_related("sender_unit", "by", "rendering").get(pk=dispatch_id)
    return dispatch_summary(dispatch)


class TaskDistributeView(APIView):
    """The distribute step (分发) of the outgoing flow, completed by the dispatch.
    Docs: docs/exchange.md#the-distribute-step."""

    @extend_schema(
        tags=["tasks"],
        operation_id="tasks_distribute_defaults",
        summary="The recipients a distribute (分发) task offers by default",
        description=(
            "For the holder of the task: the units named at submit "
            "(`participants.recipients`), else the document's 主送/抄送 matched to "
            "exchange units by name or short name; `unmatched` lists names that match "
            "none. Another person's task: 404."
        ),
        responses={200: DistributeDefaultsSerializer, **errors(ERR_404, ERR_422)},
    )
    def get(self, request: Request, pk: int) -> Response:
        from api.workflow.selectors import task_or_404

        user = current_user(request)
        task = task_or_404(user, _path_id(pk))
        if task.step_kind != "distribute":
            raise ApiError("not_distribute_step", status_code=422)
        defaults = actions.default_recipients(task.document, task.instance.participants or {})
        return Response(
            {
                "to_units": [unit_ref(u) for u in defaults.to_units],
                "cc_units": [unit_ref(u) for u in defaults.cc_units],
                "unmatched": defaults.unmatched,
            }
        )

    @extend_schema(
        tags=["tasks"],
        operation_id="tasks_distribute",
        summary="Distribute (分发): dispatch the document through the exchange; the step completes",
        description=(
            "By the holder of an open distribute task who is a clerk or unit admin of the "
            "document's unit. The dispatch (one receipt per unit) and the closed task "
            "(opinion 已分发, `detail.dispatch_id`) commit together; the receiving clerks are "
            "notified by the worker. No recipient given: the step's defaults (GET). A "
            "document already dispatched completes the step with that dispatch. "
            "`POST /tasks/{id}/approve/` on a distribute task is refused with 409 "
            "dispatch_required. Codes: 404, 403 permission_denied, 422 not_distribute_step, "
            "409 task_not_open / document_not_sealed / document_not_final, 400 as for "
            "`POST /documents/{id}/dispatch/`."
        ),
        parameters=[IDEMPOTENCY_HEADER],
        request=DistributeRequestSerializer,
        responses={
            200: DistributeResultSerializer,
            **errors(
                ERR_400,
                ERR_403,
                ERR_404,
                {409: error_response("task_not_open / document_not_sealed / document_not_final")},
                {422: error_response("not_distribute_step / document_not_outgoing")},
            ),
        },
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(DistributeRequestSerializer, request)
        user = current_user(request)
        task, dispatch = actions.distribute_task(
            _path_id(pk),
            user,
            to_units=data["to_units"],
            cc_units=data["cc_units"],
            group_ids=data["groups"],
        )
        answer = task_result(same_or_reload(task, pk, user), user)
        return Response({**answer, "dispatch": _dispatch_answer(dispatch.pk)})


class InboxView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="exchange_inbox",
        summary="The clerk's exchange inbox: documents waiting for sign-for (待签收)",
        description=(
            "Receipts addressed to the units where the caller is a clerk or unit admin, "
            "newest first, cursor paginated. `state` defaults to `pending`; `all` for "
            "every state. Anyone without such a role: 403."
        ),
        parameters=[
            OpenApiParameter("state", str, enum=STATES, default="pending"),
            *PAGE_PARAMETERS,
        ],
        responses={200: ReceiptPageSerializer, **errors(ERR_400, ERR_403, ERR_404)},
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        if not selectors.receiving_unit_ids(user):
            record_denied("exchange.inbox", actor=user, detail={"reason": "not_clerk"})
            raise Forbidden()
        state = _state_param(request, ReceiptState.PENDING)
        paginator = ReceiptPagination()
        page = paginator.paginate_queryset(selectors.inbox(user, state), request, view=self)
        return paginator.get_paginated_response([receipt_item(r) for r in page or []])


class ReceiptDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="exchange_receipt",
        summary="One receipt; the receiving clerk's first look marks it read",
        responses={200: ReceiptSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        receipt, _side = actions.open_receipt(_path_id(pk), current_user(request))
        return Response(receipt_item(receipt))


class AnyAccept(BaseContentNegotiation):
    """The download answers with the PDF whatever the client's Accept says."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ReceiptPdfView(APIView):
    content_negotiation_class = AnyAccept

    @extend_schema(
        tags=TAGS,
        operation_id="exchange_receipt_pdf",
        summary="The sealed PDF sent with a receipt — to read before signing for it",
        description=(
            "Both sides; the receiving clerk's first download marks the receipt read. "
            "ETag = the file's SHA-256; verify it with POST /api/v1/seals/verify/."
        ),
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="Content-Disposition: attachment, nosniff"
            ),
            **errors(ERR_404),
        },
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        receipt, _side = actions.open_receipt(_path_id(pk), current_user(request))
        rendering = receipt.dispatch.rendering
        if rendering is None:  # a reply (答复): its text is in the receipt, no PDF
            raise NotFound()
        try:
            handle = pdf_path(rendering).open("rb")
        except FileNotFoundError:
            logger.error("receipt %s: sealed file %s is missing", receipt.pk, rendering.path)
            raise NotFound() from None
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=f"exchange-{receipt.pk}.pdf",
            content_type="application/pdf",
        )
        response["Content-Length"] = str(rendering.size)
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, no-cache"
        response["ETag"] = f'"{rendering.sha256}"'
        return response


RECEIPT_409 = {409: error_response("already_signed_for / receipt_not_pending")}


class SignView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="exchange_sign",
        summary="Sign for (签收) a receipt: registers the 收文 and starts the incoming flow",
        description=(
            "By a clerk or unit admin of the receiving unit. The time is recorded; the "
            "incoming document (a copy referencing the original, with its sealed PDF) is "
            "created in the receiving unit and the unit's incoming flow starts "
            "(`template_id` or the nearest active incoming template; `participants` as on "
            "submit). When the flow cannot start, the document stays registered and "
            "`flow.started` is false with the reason in `flow.code`. Codes: 404, 403 (the "
            "sending side), 409 already_signed_for, 409 receipt_not_pending."
        ),
        parameters=[IDEMPOTENCY_HEADER],
        request=SignRequestSerializer,
        responses={200: SignResultSerializer, **errors(ERR_400, ERR_403, ERR_404, RECEIPT_409)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(SignRequestSerializer, request)
        result = actions.sign_for(
            _path_id(pk),
            current_user(request),
            template_id=data.get("template_id"),
            participants=data.get("participants") or {},
        )
        return Response({**receipt_item(result.receipt), "flow": result.flow})


class ReturnView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="exchange_return",
        summary="Return (退文) a receipt to the sender with a reason",
        description="Codes: 404, 403, 409 already_signed_for / receipt_not_pending, "
        "422 reason_required.",
        parameters=[IDEMPOTENCY_HEADER],
        request=ReturnRequestSerializer,
        responses={
            200: ReceiptSerializer,
            **errors(ERR_400, ERR_403, ERR_404, RECEIPT_409, ERR_422),
        },
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(ReturnRequestSerializer, request)
        receipt = actions.return_receipt(
            _path_id(pk), current_user(request), data.get("reason", "")
        )
        return Response(receipt_item(receipt))


class RecallView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="exchange_recall",
        summary="Recall (撤回) a receipt before it is signed for — the sending side",
        description="By a clerk or unit admin of the sending unit. Codes: 404, 403 (the "
        "receiving side), 409 already_signed_for (too late), 409 receipt_not_pending.",
        parameters=[IDEMPOTENCY_HEADER],
        request=EmptyRequestSerializer,
        responses={200: ReceiptSerializer, **errors(ERR_400, ERR_403, ERR_404, RECEIPT_409)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        validated_body(EmptyRequestSerializer, request)
        return Response(receipt_item(actions.recall(_path_id(pk), current_user(request))))


class GroupPagination(CursorPagination):
    ordering = "id"


class GroupListView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="exchange_groups",
        summary="Exchange groups (e.g. 全体区县政府) with their units",
        description="Every signed-in user (a clerk addresses a dispatch with them).",
        parameters=PAGE_PARAMETERS,
        responses={200: GroupPageSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request) -> Response:
        paginator = GroupPagination()
        page = paginator.paginate_queryset(selectors.groups(), request, view=self)
        return paginator.get_paginated_response([group_item(g) for g in page or []])

    @extend_schema(
        tags=TAGS,
        operation_id="exchange_groups_create",
        summary="Create an exchange group — city IT admins",
        description="Codes: 403, 400 unit_not_found, 409 group_name_taken.",
        parameters=[IDEMPOTENCY_HEADER],
        request=GroupCreateSerializer,
        responses={201: GroupSerializer, **errors(ERR_400, ERR_403, ERR_409)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = validated_body(GroupCreateSerializer, request)
        group = actions.create_group(current_user(request), data["name"], data["unit_ids"])
        group = selectors.groups().get(pk=group.pk)
        return Response(group_item(group), status=status.HTTP_201_CREATED)


class GroupDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="exchange_group",
        summary="One exchange group",
        responses={200: GroupSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        group = selectors.groups().filter(pk=_path_id(pk)).first()
        if group is None:
            raise NotFound()
        return Response(group_item(group))

    @extend_schema(
        tags=TAGS,
        operation_id="exchange_groups_update",
        summary="Rename an exchange group or replace its units — city IT admins",
        request=GroupUpdateSerializer,
        responses={200: GroupSerializer, **errors(ERR_400, ERR_403, ERR_404, ERR_409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        data = validated_body(GroupUpdateSerializer, request)
        group = actions.update_group(
            current_user(request), _path_id(pk), data.get("name"), data.get("unit_ids")
        )
        return Response(group_item(selectors.groups().get(pk=group.pk)))

    @extend_schema(
        tags=TAGS,
        operation_id="exchange_groups_delete",
        summary="Delete an exchange group — city IT admins (past dispatches keep their ids)",
        responses={204: None, **errors(ERR_403, ERR_404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        actions.delete_group(current_user(request), _path_id(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
