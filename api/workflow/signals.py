"""Signals the workflow sends after commit (for notifications, issue 5 and later).

Docs: docs/workflow.md#signals. ``tasks_opened(task_ids=[...])`` fires once per
committed action that opened tasks (new to-dos for someone); receivers must re-read
the rows and be safe to run twice.
"""

from django.dispatch import Signal

tasks_opened = Signal()
