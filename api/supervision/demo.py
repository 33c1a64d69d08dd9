"""Demo supervised items for ``manage.py seed_demo`` (docs/supervision.md, docs/demo.md).

Idempotent: an item is matched by its title and owner unit, so a second run creates
nothing. Two items of 市发展和改革委员会 (b_leader leads it, b_clerk is its clerk),
opened by the demo ``supervisor``: one on track with a milestone ahead (green) and one
past its deadline (red), which the beat task escalates to b_leader.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from api.accounts.models import Unit, User
from api.supervision.actions import compute_light
from api.supervision.models import Milestone, ProgressReport, Source, SupervisedItem

# title, source, instruction, owner unit code, opened days ago, deadline in days
# (negative: past), progress, milestones [(title, due in days)]
DEMO_ITEMS = (
    (
        "重点项目“智慧园区”年度投资计划落实",
        Source.INSTRUCTION,
        "请市发改委牵头，按月报送投资完成情况，年底前完成年度计划。",
        "XC-FGW",
        10,
        40,
        30,
        [("报送第一阶段投资完成情况", 12)],
    ),
    (
        "营商环境问题清单整改",
        Source.MANUAL,
        "",
        "XC-FGW",
        30,
        -2,
        60,
        [("完成问题清单梳理", -12)],
    ),
)


def seed_supervised_items() -> int:
    """Create the demo items that do not exist yet; the number created."""
    supervisor = User.objects.filter(username="supervisor").first()
    if supervisor is None:
        return 0
    now = timezone.now()
    created = 0
    for title, source, instruction, code, opened, deadline, progress, milestones in DEMO_ITEMS:
        unit = Unit.objects.filter(code=code).first()
        if unit is None or SupervisedItem.objects.filter(title=title, owner_unit=unit).exists():
            continue
        item = SupervisedItem.objects.create(
            title=title,
            source=source,
            instruction=instruction,
            owner_unit=unit,
            created_by=supervisor,
            created_at=now - timedelta(days=opened),
            deadline=now + timedelta(days=deadline),
            progress=progress,
        )
        rows = [
            Milestone(item=item, title=name, due=now + timedelta(days=due))
            for name, due in milestones
        ]
        Milestone.objects.bulk_create(rows)
        reporter = User.objects.filter(username="b_clerk").first()
        if reporter is not None:
            ProgressReport.objects.create(
                item=item, by=reporter, text="已按要求推进，详见附件。", percent=progress
            )
        item.light = compute_light(item, now, rows)
        item.save(update_fields=["light"])
        created += 1
    return created
