"""Setting a unit's own document time limits (docs/workflow.md#document-time-limits).

A unit admin of the unit's subtree, or a city IT admin, sets or removes the unit's
limits for every document type (``doc_type`` "") or one type; each change is audited
(``workflow.time_limit_set`` / ``workflow.time_limit_removed``), a refusal too (403).
Documents already submitted keep their limit until they are submitted again.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from api.accounts.models import User
from api.audit.recorder import record
from api.common.errors import NotFound
from api.workflow.actions.templates import _check_manage
from api.workflow.models import UnitTimeLimit


def set_unit_time_limit(
    unit: Any, actor: User, *, doc_type: str, ordinary_days: Decimal, countersign_days: Decimal
) -> UnitTimeLimit:
    _check_manage(actor, unit, "workflow.time_limit_set")
    with transaction.atomic():
        row, created = UnitTimeLimit.objects.select_for_update().get_or_create(
            unit=unit,
            doc_type=doc_type,
            defaults={
                "ordinary_days": ordinary_days,
                "countersign_days": countersign_days,
                "updated_by": actor,
            },
        )
        if not created:
            row.ordinary_days = ordinary_days
            row.countersign_days = countersign_days
            row.updated_by = actor
            row.updated_at = timezone.now()
            row.save(
                update_fields=["ordinary_days", "countersign_days", "updated_by", "updated_at"]
            )
        record(
            "workflow.time_limit_set",
            actor=actor,
            obj=unit,
            detail={
                "doc_type": doc_type,
                "ordinary_days": float(ordinary_days),
                "countersign_days": float(countersign_days),
            },
        )
    return row


def remove_unit_time_limit(unit: Any, actor: User, *, doc_type: str) -> None:
    _check_manage(actor, unit, "workflow.time_limit_remove")
    with transaction.atomic():
        deleted, _ = UnitTimeLimit.objects.filter(unit=unit, doc_type=doc_type).delete()
        if not deleted:
            raise NotFound()
        record("workflow.time_limit_removed", actor=actor, obj=unit, detail={"doc_type": doc_type})
