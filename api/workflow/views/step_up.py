"""The challenge for confirming one approval with a passkey (step-up).

Docs: docs/workflow.md#step-up-with-a-passkey and docs/mobile-api.md#actions. A thin
view over api/workflow/step_up.py; the approval itself is ``POST tasks/{id}/approve/``
with ``webauthn`` (api/workflow/views/tasks.py).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.authentication import current_session
from api.common.auth import current_user
from api.common.idempotency import idempotent
from api.common.schema import ERR_400, ERR_403, ERR_404, ERR_409, errors
from api.workflow import step_up
from api.workflow.serializers.tasks import EmptyBodySerializer


class StepUpOptionsSerializer(serializers.Serializer):
    options = serializers.DictField(
        help_text="PublicKeyCredentialRequestOptionsJSON: give it to "
        "PublicKeyCredential.parseRequestOptionsFromJSON and navigator.credentials.get"
    )
    challenge_id = serializers.CharField(
        help_text="send back with the assertion as webauthn.challenge_id; 5 min, once"
    )


class TaskStepUpOptionsView(APIView):
    """A challenge to confirm approving this task with a passkey (one tap + biometrics)."""

    @extend_schema(
        tags=["tasks"],
        operation_id="tasks_step_up_options",
        request=EmptyBodySerializer,
        responses={200: StepUpOptionsSerializer, **errors(ERR_400, ERR_403, ERR_404, ERR_409)},
        description=(
            "Only for the person who may act on the open task now (404 otherwise); "
            "409 `task_not_open`, `no_passkey`. The challenge is bound to this user, "
            "session, task and the approve action, for 5 minutes, once."
        ),
    )
    @idempotent  # like every task POST: a retried request gets the same challenge back
    def post(self, request: Request, pk: int) -> Response:
        EmptyBodySerializer(data=request.data if request.data else {}).is_valid(
            raise_exception=True
        )
        options, challenge_id = step_up.step_up_options(
            current_user(request), current_session(request), pk
        )
        response = Response({"options": options, "challenge_id": challenge_id})
        response["Cache-Control"] = "no-store"  # a challenge is never cached
        response["Pragma"] = "no-cache"
        return response
