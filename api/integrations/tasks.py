"""Celery tasks of the connector layer. Docs: docs/integrations.md#background-work.

* ``process_record(id)`` — sent after a record is stored or replayed.
* ``pull_due`` — beat, every 60 s: pulls each configured connector whose turn came.
* ``sweep`` — beat, every 60 s: processes pending records whose retry time came (and any
  a lost message left behind), forgets webhook signatures past the window.

All safe to run twice: processing re-reads the record under its row lock, a pull claims
its turn with a compare-and-set.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="api.integrations.tasks.process_record")
def process_record(record_id: int) -> str:
    from api.integrations.actions import process

    return process(record_id)


@shared_task(name="api.integrations.tasks.pull_due")
def pull_due() -> int:
    from api.integrations.actions import pull_due as run

    return run()


@shared_task(name="api.integrations.tasks.sweep")
def sweep() -> int:
    from api.integrations.actions import due_record_ids, process, prune_signatures

    prune_signatures()
    return sum(process(record_id) == "done" for record_id in due_record_ids())
