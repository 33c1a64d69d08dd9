"""Step-up: one approval confirmed with a passkey (指纹/面容确认).

Docs: docs/workflow.md#step-up-with-a-passkey. The challenge is issued only to the
person who may act on the open task now; the approval runs ``actions.approve`` with a
``confirm`` check that verifies the assertion (api/accounts/actions/passkeys.py
``verify_assertion``) inside the approval's transaction, after its locks and its own
refusals. A failed check rolls the approval back; only the refusal is recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.accounts.actions.identity import count_step_up_failure, refuse_step_up_if_locked
from api.accounts.actions.passkeys import AssertionRefused, assertion_options, verify_assertion
from api.accounts.models import User, UserSession
from api.audit.recorder import record_denied
from api.common.errors import ApiError, Conflict, NotFound
from api.workflow import actions
from api.workflow.actions.locking import backup_acting
from api.workflow.models import Task, TaskState
from api.workflow.selectors import task_or_404

# Every failed step-up counts toward the login lockout under this audit action.
STEP_UP_ACTION = "auth.step_up_failed"


class StepUpFailed(Exception):
    """The passkey check refused inside the approval's transaction (rolls it back)."""

    def __init__(self, refused: AssertionRefused) -> None:
        super().__init__(refused.reason)
        self.reason = refused.reason
        self.refused = refused


def step_up_options(
    user: User, session: UserSession | None, task_id: int, action: str = "approve"
) -> tuple[dict[str, Any], str]:
    """A challenge bound to this user, session, task and action. Only the person who
    may act on the open task now gets one (anyone else: 404, recorded)."""
    task = task_or_404(user, task_id)
    if not _is_actor(task, user):
        record_denied("task.step_up", actor=user, object_type="workflow.task", object_id=task_id)
        raise NotFound()
    if task.state != TaskState.OPEN:
        raise Conflict("task_not_open", extra={"state": task.state})
    return assertion_options(user, session, task_id=task.pk, action=action)


def _is_actor(task: Task, user: User) -> bool:
    """The assignee, or the backup acting now for an absent assignee (B for A)."""
    return task.assignee_id == user.pk or backup_acting(task, user)


def step_up_verifier(
    user: User, session: UserSession | None, assertion: dict[str, Any], action: str
) -> Callable[[Task], str]:
    """The ``confirm`` check for ``actions.approve``: returns ``"passkey"`` or raises
    ``StepUpFailed``. The challenge is redeemed now, before the approval's transaction;
    a refusal found now is only raised inside the check, so a task that is not the
    user's still answers 404 first."""
    check = verify_assertion(user, session, assertion, action=action)

    def confirm(task: Task) -> str:
        try:
            check(task.pk)
        except AssertionRefused as refused:
            raise StepUpFailed(refused) from None
        return "passkey"

    return confirm


def approve_confirmed(
    task_id: int,
    actor: User,
    session: UserSession | None,
    *,
    opinion: str,
    assertion: dict[str, Any],
) -> Task:
    """Approve with a passkey step-up. A failed check rolls the approval back (nothing
    is recorded but the refusal: ``task.step_up_failed``, and ``passkey.clone_suspected``
    for a counter that went backwards) and answers 403 ``step_up_failed``."""
    refuse_step_up_if_locked(actor, STEP_UP_ACTION)
    try:
        return actions.approve(
            task_id,
            actor,
            opinion=opinion,
            confirm=step_up_verifier(actor, session, assertion, "approve"),
        )
    except StepUpFailed as failed:
        failed.refused.record(actor.username)
        record_denied(
            "task.step_up_failed",
            actor=actor,
            object_type="workflow.task",
            object_id=task_id,
            detail={"reason": failed.reason, "action": "approve"},
        )
        # Counted like a wrong password: same keys, same lockout (docs/identity.md#lockout).
        count_step_up_failure(
            actor,
            action=STEP_UP_ACTION,
            reason=f"passkey_{failed.reason}",
            error=ApiError("step_up_failed", status_code=403),
        )
