"""Every state change of the workflow: submit, approve, return, transfer, add a
countersigner, withdraw, acknowledge a circulation, end it, batch approve, move by
an admin — plus delegation moves (called by api/workflow/receivers.py) and templates.

Docs: docs/workflow.md#actions. One module per topic; the lock order (instance, then
tasks), audit-last and after-commit rules are in ``locking.py``'s header:

- ``locking``: the shared transaction, lock and refusal helpers
- ``submit``: start a document on a template
- ``task_moves``: approve, seal, distribute (by the exchange dispatch), batch approve,
  acknowledge, return, transfer, add a countersigner, mark read
- ``document_moves``: withdraw, admin move, end a circulation
- ``delegation``: move an absent person's tasks to the backup and back
- ``templates``: create, update, deactivate templates
- ``time_limits``: a unit's own document time limits

Callers use ``from api.workflow import actions; actions.approve(...)``.
"""

from api.workflow.actions.delegation import delegate_open_tasks, undelegate_open_tasks
from api.workflow.actions.document_moves import admin_move, end_circulation, withdraw
from api.workflow.actions.locking import MAX_OPINION
from api.workflow.actions.submit import SUBMITTABLE, submit
from api.workflow.actions.task_moves import (
    BATCH_LIMIT,
    RETURN_TARGETS,
    acknowledge,
    add_countersigner,
    approve,
    batch_approve,
    distribute_step,
    mark_read,
    return_task,
    seal_step,
    transfer,
)
from api.workflow.actions.templates import (
    INCOMING_ONLY,
    MAX_STEPS,
    OUTGOING_ONLY,
    STEP_KEYS,
    clean_steps,
    create_template,
    deactivate_template,
    engine_auto_kinds,
    template_in_use,
    update_template,
)
from api.workflow.actions.time_limits import remove_unit_time_limit, set_unit_time_limit

__all__ = [
    "BATCH_LIMIT",
    "INCOMING_ONLY",
    "MAX_OPINION",
    "MAX_STEPS",
    "OUTGOING_ONLY",
    "RETURN_TARGETS",
    "STEP_KEYS",
    "SUBMITTABLE",
    "acknowledge",
    "add_countersigner",
    "admin_move",
    "approve",
    "batch_approve",
    "clean_steps",
    "create_template",
    "deactivate_template",
    "delegate_open_tasks",
    "distribute_step",
    "end_circulation",
    "engine_auto_kinds",
    "mark_read",
    "remove_unit_time_limit",
    "return_task",
    "seal_step",
    "set_unit_time_limit",
    "submit",
    "template_in_use",
    "transfer",
    "undelegate_open_tasks",
    "update_template",
    "withdraw",
]
