"""Beat task of e-supervision: alerts for open items that cross a threshold without new
events. Docs: docs/integrations.md#e-supervision. Safe to run twice (each item row is
locked; an alert is unique per item and level).
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="api.integrations.esupervision.tasks.check_open_items")
def check_open_items() -> int:
    from api.integrations.esupervision.actions import check_open_items as check

    return check()
