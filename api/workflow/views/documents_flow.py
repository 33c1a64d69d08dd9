"""A document's flow over HTTP: submit (送审), trail (流转记录), withdraw (撤回), a unit
admin's move to another step (调整环节) and ending a circulation (结束传阅).

Docs: docs/mobile-api.md#actions (submit, withdraw, move, end-circulation) and #trail;
docs/workflow.md#actions. Thin views over
api/workflow/actions/ and selectors.py. A document the caller may not see is a 404
(api.documents.selectors.document_or_404 records the denial).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.common.auth import current_user
from api.common.idempotency import idempotent
from api.common.schema import (
    ERR_400,
    ERR_403,
    ERR_404,
    ERR_409,
    ERR_422,
    IDEMPOTENCY_HEADER,
    error_response,
    errors,
)
from api.common.serializers import StrictSerializer, validated_body
from api.documents.selectors import document_or_404
from api.workflow import actions, selectors
from api.workflow.serializers.tasks import (
    DocumentSubmitSerializer,
    DocumentTrailSerializer,
    EmptyBodySerializer,
    WorkflowInstanceRefSerializer,
)

TAGS = ["documents"]


def instance_data(instance) -> dict:
    return {
        "id": instance.pk,
        "document_id": instance.document_id,
        "state": instance.state,
        "current_step_order": instance.current_step_order,
        "started_at": instance.started_at,
        "finished_at": instance.finished_at,
    }


class SubmitView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="documents_submit",
        summary="Submit a draft into a workflow template (送审), choosing the participants",
        description=(
            "`participants` fills the template's drafter-choice steps by their choice "
            "keys, e.g. `countersigners` (a list of user ids) and `sign_off_by` (one id). "
            "Codes: not_found, validation_error, conflict, and the engine's codes; 422 "
            "classified_refused (a classification marking in the body or an attachment's "
            "text, with `place`), 409 attachment_check_pending (an office attachment's "
            "text is still being extracted)."
        ),
        parameters=[IDEMPOTENCY_HEADER],
        request=DocumentSubmitSerializer,
        responses={
            201: WorkflowInstanceRefSerializer,
            **errors(ERR_400, ERR_404, ERR_409, ERR_422),
            403: error_response(
                "not_drafter — only the drafter or a clerk of the unit submits (recorded)"
            ),
        },
        examples=[
            OpenApiExample(
                "Countersign by three leaders, mayor signs off",
                value={
                    "template_id": 3,
                    "participants": {"countersigners": [12, 13, 14], "sign_off_by": 15},
                },
                request_only=True,
            )
        ],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(DocumentSubmitSerializer, request)
        user = current_user(request)
        # actions.submit answers 404 (recorded) for a document the caller cannot see.
        instance = actions.submit(
            pk, user, template_id=data["template_id"], participants=data["participants"]
        )
        return Response(instance_data(instance), status=status.HTTP_201_CREATED)


class WithdrawView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="documents_withdraw",
        summary="Withdraw (撤回) a submitted document while the next step is untouched",
        parameters=[IDEMPOTENCY_HEADER],
        request=EmptyBodySerializer,
        responses={
            200: WorkflowInstanceRefSerializer,
            **errors(ERR_400, ERR_404, ERR_409, ERR_422),
            403: error_response(
                "not_sender — only whoever opened the current step may withdraw (recorded)"
            ),
        },
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        validated_body(EmptyBodySerializer, request)
        return Response(instance_data(actions.withdraw(pk, current_user(request))))


class DocumentMoveSerializer(StrictSerializer):
    to_step = serializers.IntegerField(
        min_value=1, help_text="the `order` of a step of the running instance's template"
    )
    reason = serializers.CharField(
        max_length=500, help_text="required: why the flow is changed (kept in the audit log)"
    )


class MoveView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="documents_move",
        summary="Move a running document to another step (调整环节) — unit admin only",
        description=(
            "For a unit admin (单位管理员) of the document's unit or a unit above it (or a "
            "city IT admin). The "
            "current step's open and waiting tasks are cancelled (they stay in the trail "
            "as `cancelled` with action `admin_moved`), the target step opens for its "
            "people. Opinions already given are never touched. Codes: validation_error, "
            "permission_denied (403, recorded: the caller may see the document but does "
            "not administer its unit), not_found (404, recorded: the caller may not see "
            "it), instance_not_running (409), step_not_found (422), reason_required (422)."
        ),
        parameters=[IDEMPOTENCY_HEADER],
        request=DocumentMoveSerializer,
        responses={
            200: WorkflowInstanceRefSerializer,
            **errors(ERR_400, ERR_403, ERR_404, ERR_409, ERR_422),
        },
        examples=[
            OpenApiExample(
                "Skip the countersign, straight to sign-off",
                value={"to_step": 3, "reason": "两位副市长出差，直接送市长签发"},
                request_only=True,
            ),
            OpenApiExample(
                "Moved",
                value={
                    "id": 311,
                    "document_id": 977,
                    "state": "running",
                    "current_step_order": 3,
                    "started_at": "2026-11-24T09:12:03.114512+08:00",
                    "finished_at": None,
                },
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(DocumentMoveSerializer, request)
        # actions.admin_move answers 404 (recorded) for a document the caller cannot
        # see and 403 (recorded) for one whose unit the caller does not administer.
        instance = actions.admin_move(
            pk, current_user(request), to_step_order=data["to_step"], reason=data["reason"]
        )
        return Response(instance_data(instance))


class EndCirculationView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="documents_end_circulation",
        summary="End a circulation (结束传阅) — the person who sent it round",
        description=(
            "Only at a circulate (传阅) step, by whoever opened it (or started the "
            "flow). Copies nobody has acknowledged yet are cancelled (they stay in the "
            "trail as `cancelled` with action `circulation_ended`); acknowledgements "
            "already given stay; the flow moves on to the next step. Codes: not_found "
            "(404, recorded), not_sender (403, recorded), instance_not_running (409), "
            "not_circulation_step (422)."
        ),
        parameters=[IDEMPOTENCY_HEADER],
        request=EmptyBodySerializer,
        responses={
            200: WorkflowInstanceRefSerializer,
            **errors(ERR_400, ERR_403, ERR_404, ERR_409, ERR_422),
        },
        examples=[
            OpenApiExample(
                "Circulation ended, the reply step is open",
                value={
                    "id": 312,
                    "document_id": 978,
                    "state": "running",
                    "current_step_order": 6,
                    "started_at": "2026-11-24T09:12:03.114512+08:00",
                    "finished_at": None,
                },
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        validated_body(EmptyBodySerializer, request)
        return Response(instance_data(actions.end_circulation(pk, current_user(request))))


class TrailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="documents_trail",
        summary="The trail (流转记录): every step, actor, on-behalf-of, opinion, timestamps",
        description="Timestamps are full ISO 8601 with the time zone. When a backup "
        'acted for an absent colleague, `actor_label` reads "deputy1 代 leader1".',
        responses={
            200: OpenApiResponse(
                DocumentTrailSerializer,
                examples=[
                    OpenApiExample(
                        "Countersigned by a deputy",
                        value={
                            "document_id": 977,
                            "entries": [
                                {
                                    "task_id": 4812,
                                    "instance_id": 311,
                                    "step": {"order": 2, "kind": "countersign", "name": "会签"},
                                    "state": "done",
                                    "action": "approve",
                                    "opinion": "同意",
                                    "actor": {"id": 19, "display_name": "吴强"},
                                    "on_behalf_of": {"id": 12, "display_name": "张伟"},
                                    "actor_label": "吴强 代 张伟",
                                    "from": {"id": 8, "display_name": "李明"},
                                    "received_at": "2026-11-24T09:12:03.114512+08:00",
                                    "due_at": "2026-11-27T09:12:03.114512+08:00",
                                    "acted_at": "2026-11-24T10:01:44.900102+08:00",
                                    "working_seconds": 2981,
                                }
                            ],
                        },
                    )
                ],
            ),
            **errors(ERR_404),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        document = document_or_404(current_user(request), pk)
        return Response(
            DocumentTrailSerializer(
                {"document_id": document.pk, "entries": selectors.trail(document)}
            ).data
        )
