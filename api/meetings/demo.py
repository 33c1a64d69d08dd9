"""Demo meeting for ``manage.py seed_demo`` (docs/meetings.md#the-demo, docs/demo.md).

Idempotent: matched by title. The office director 王建国 hosts a video meeting of
the city government tomorrow at 09:00 with leader1–3, and 市发展和改革委员会 is asked
to name its attendee (b_admin and b_clerk get the notice).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from api.accounts.models import Unit, User
from api.meetings.actions import schedule_meeting
from api.meetings.models import Meeting

DEMO_TITLE = "市政府常务会议（视频）"


def seed_demo_meeting() -> int:
    if Meeting.objects.filter(title=DEMO_TITLE).exists():
        return 0
    director = User.objects.filter(username="director").first()
    leaders = list(User.objects.filter(username__in=["leader1", "leader2", "leader3"]))
    bureau = Unit.objects.filter(code="XC-FGW").first()
    if director is None or not leaders:
        return 0
    day = timezone.localdate() + timedelta(days=1)
    starts = timezone.make_aware(datetime.combine(day, time(9, 0)))
    schedule_meeting(
        director,
        title=DEMO_TITLE,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        place="市政府三楼第一会议室",
        agenda="一、通报本周重点工作进展\n二、研究部署冬季安全生产\n三、其他事项",
        user_ids=[u.pk for u in leaders],
        unit_ids=[bureau.pk] if bureau else [],
    )
    return 1
