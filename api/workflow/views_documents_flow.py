"""A document's flow over HTTP: submit (送审), trail (流转记录), withdraw (撤回).

Docs: docs/mobile-api.md#actions (submit, withdraw) and #trail. Thin views over
api/workflow/actions.py and selectors.py. A document the caller may not see is a 404
(api.documents.selectors.document_or_404 records the denial).
"""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.models import User
from api.common.idempotency import idempotent
from api.common.schema import ERR_400, ERR_404, ERR_409, ERR_422, errors
from api.documents.selectors import document_or_404
from api.workflow import actions, selectors
from api.workflow.serializers_tasks import (
    DocumentSubmitSerializer,
    DocumentTrailSerializer,
    EmptyBodySerializer,
    WorkflowInstanceRefSerializer,
)
from api.workflow.views_tasks import IDEMPOTENCY_HEADER, _validated

TAGS = ["documents"]


def _user(request: Request) -> User:
    return cast(User, request.user)


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
            "Codes: not_found, validation_error, conflict, and the engine's codes."
        ),
        parameters=[IDEMPOTENCY_HEADER],
        request=DocumentSubmitSerializer,
        responses={
            201: WorkflowInstanceRefSerializer,
            **errors(ERR_400, ERR_404, ERR_409, ERR_422),
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
        data = _validated(DocumentSubmitSerializer, request)
        user = _user(request)
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
        },
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        _validated(EmptyBodySerializer, request)
        return Response(instance_data(actions.withdraw(pk, _user(request))))


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
                                    "actor": {"id": 19, "username": "deputy1", "name": "吴强"},
                                    "on_behalf_of": {
                                        "id": 12,
                                        "username": "leader1",
                                        "name": "张伟",
                                    },
                                    "actor_label": "吴强 代 张伟",
                                    "from": {"id": 8, "username": "director", "name": "李明"},
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
        document = document_or_404(_user(request), pk)
        return Response(
            DocumentTrailSerializer(
                {"document_id": document.pk, "entries": selectors.trail(document)}
            ).data
        )
