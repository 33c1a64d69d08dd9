"""The demo's base data catalogue and grants for ``manage.py seed_demo``
(docs/integrations.md#base-data, docs/demo.md).

Idempotent. The catalogue is the fake platform's (cityfakes/basedata.py), applied
through the same ``apply_entry`` the pull connector uses, so a newcomer sees it before
the first pull runs (the pull then finds every version already applied). Then:

- ``clerk`` (周敏, 市政府办公室) holds an approved, masked grant for 法人单位基本信息
  (owned by 市发展和改革委员会), approved by its unit admin ``b_admin`` (何磊);
- ``office_staff`` (赵丽) has a pending request for 宏观经济月度指标, for ``b_admin``
  to decide.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from api.accounts.models import Unit, User
from api.integrations.basedata.catalogue import apply_entry
from api.integrations.basedata.models import AccessRequest, Dataset, RequestStatus
from api.integrations.basedata.selectors import today
from cityfakes.basedata import catalogue

GRANTED = "legal_entity.registrations"
PENDING = "macro_economy.monthly_indicators"


def seed() -> dict[str, int]:
    stats = {"basedata_datasets_created": 0, "basedata_requests_created": 0}
    codes = set(Unit.objects.values_list("code", flat=True))
    for entry in catalogue():
        if entry["owner_unit_code"] not in codes:
            continue
        if not Dataset.objects.filter(source_id=entry["id"]).exists():
            apply_entry(entry)
            stats["basedata_datasets_created"] += 1
    people = {
        u.username: u
        for u in User.objects.filter(username__in=["clerk", "office_staff", "b_admin"])
    }
    if len(people) < 3:
        return stats
    day, now = today(), timezone.now()
    wanted = (
        (
            GRANTED,
            "clerk",
            RequestStatus.APPROVED,
            "核实拟表彰企业的登记信息和法定代表人联系方式。",
        ),
        (PENDING, "office_staff", RequestStatus.PENDING, "编写市政府月度经济运行简报。"),
    )
    for source_id, username, status, purpose in wanted:
        dataset = Dataset.objects.filter(source_id=source_id).first()
        person = people[username]
        if (
            dataset is None
            or AccessRequest.objects.filter(dataset=dataset, requester=person).exists()
        ):
            continue
        decided = status == RequestStatus.APPROVED
        AccessRequest.objects.create(
            dataset=dataset,
            requester=person,
            unit_id=person.unit_id,
            purpose=purpose,
            starts_on=day,
            ends_on=day + timedelta(days=180),
            status=status,
            requested_at=now,
            decided_by=people["b_admin"] if decided else None,
            decided_at=now if decided else None,
            decision_reason="同意，仅限表彰核实使用。" if decided else "",
        )
        stats["basedata_requests_created"] += 1
    return stats
