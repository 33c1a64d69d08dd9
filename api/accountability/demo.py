"""A demo accountability case for ``manage.py seed_demo`` (docs/accountability.md,
docs/demo.md).

Idempotent: the case is matched by its source, so a second run creates nothing. The
demo ``supervisor`` opens a case from the red supervised item of 市发展和改革委员会
(api/supervision/demo.py) and records the findings; the decision is left for the
demo, so b_leader sees the case about their unit and its figures show it pending.
"""

from __future__ import annotations

from django.utils import timezone

from api.accountability import selectors, sources
from api.accountability.models import AccountabilityCase, CaseStatus
from api.accounts.models import User
from api.common.errors import ApiError

DEMO_ITEM_TITLE = "营商环境问题清单整改"
REASON = "督办事项逾期亮红灯，节点“完成问题清单梳理”逾期未完成，启动问责核查。"
FINDINGS = "经核查，问题清单梳理逾期 12 天，期间未报告原因，也未申请延期。"


def seed_case() -> int:
    """Create the demo case when it does not exist yet; the number created."""
    from api.supervision.models import SupervisedItem

    supervisor = User.objects.filter(username="supervisor").first()
    item = SupervisedItem.objects.select_related("owner_unit").filter(title=DEMO_ITEM_TITLE).first()
    if supervisor is None or item is None or not selectors.supervises(supervisor, item.owner_unit):
        return 0
    if AccountabilityCase.objects.filter(source_key=f"supervision_item:{item.pk}").exists():
        return 0
    try:
        source = sources.resolve_item(supervisor, item.pk)
    except ApiError:  # not at red (yet): nothing to seed
        return 0
    now = timezone.now()
    AccountabilityCase.objects.create(
        unit=source.unit,
        source_kind=source.kind,
        source_key=source.key,
        supervised_item=item,
        title=source.title,
        reason=REASON,
        linked=source.linked,
        opened_by=supervisor,
        opened_at=now,
        status=CaseStatus.FINDINGS_RECORDED,
        findings=FINDINGS,
        findings_by=supervisor,
        findings_at=now,
    )
    return 1
