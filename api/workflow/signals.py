"""Signals of the workflow, for the apps above it (notifications first).

Docs: docs/workflow.md#signals. The workflow imports none of its listeners; they
connect in their AppConfig.ready() (api/notify/receivers.py).

* ``tasks_opening(task_ids=[...], now=...)`` — inside the action's transaction, before
  its audit events: tasks were opened (new to-dos). A receiver's error rolls the
  action back, so a to-do and its notification commit together.
* ``task_read(user=..., task_id=..., now=...)`` — inside ``actions.mark_read``: the
  assignee opened the task (its notifications are read too).
* ``tasks_opened(task_ids=[...])`` — once per committed action that opened tasks;
  receivers must re-read the rows and be safe to run twice.
* ``returned_to_sender(task=..., reason=..., actor=..., now=...)`` — inside ``return_task(...,
  to="sender")``, after the task and instance rows are locked and before the audit
  events: an incoming document was returned to its sending unit (e.g. at 初审). The
  exchange marks the sender's receipt ``returned`` (api/exchange/receivers.py).
* ``reply_given(task=..., text=..., actor=..., now=...)`` — inside the approval of an incoming
  document's 答复 (reply) task, in the same place: the exchange sends the reply back
  to the sending unit. A receiver returns a dict that is kept in ``task.detail``.
* ``documents_overdue(document_ids=[...], now=...)`` — inside the transaction that
  marked the documents overdue (once per document, api/workflow/time_limits.py):
  urging notifies the people holding it and its drafter.
"""

from django.dispatch import Signal

tasks_opening = Signal()
task_read = Signal()
tasks_opened = Signal()
returned_to_sender = Signal()
reply_given = Signal()
documents_overdue = Signal()


def send_in_action(signal: Signal, **kwargs: object) -> dict:
    """Send ``signal`` inside the action's transaction (a receiver's error rolls the
    action back) and merge the dicts its receivers return."""
    merged: dict = {}
    for _receiver, response in signal.send(sender=None, **kwargs):
        if isinstance(response, dict):
            merged.update(response)
    return merged
