"""DEMO ONLY: the personal office of the demo city. Docs: docs/personal-office.md#demo.

``seed()`` is called by ``manage.py seed_demo``: leader1 (张伟) designates secretary1
(陈晓) to keep the schedule, and a week of leader1's schedule is entered by the
secretary (a weekly meeting with an RRULE among them); office phones for the demo
accounts. Idempotent: nothing is added when leader1 already has events.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from api.accounts.models import User
from api.office import actions
from api.office.models import AccessLevel, ContactCard, Event, ScheduleAccess

WEEK = (
    # (day offset, hour, minutes, title, place, rrule)
    (0, 9, 60, "市政府常务会议", "市政府第一会议室", "FREQ=WEEKLY;COUNT=12"),
    (0, 15, 90, "听取发改委重点项目汇报", "市发改委三楼会议室", ""),
    (1, 10, 120, "调研高新区企业", "高新区管委会", ""),
    (2, 9, 60, "接待省厅检查组", "市政府贵宾室", ""),
    (3, 14, 120, "防汛工作专题会", "应急指挥中心", ""),
    (4, 9, 180, "全市营商环境大会", "市民中心报告厅", ""),
)


def seed() -> dict[str, int]:
    if settings.PRODUCTION:
        raise RuntimeError("the demo personal office is never seeded in production")
    people = {
        u.username: u
        for u in User.objects.filter(username__in=["leader1", "secretary1", "director", "clerk"])
    }
    if len(people) < 4:
        return {}
    leader, secretary = people["leader1"], people["secretary1"]
    stats = {"office_access_granted": 0, "office_events_created": 0, "office_cards_created": 0}
    if not ScheduleAccess.objects.filter(owner=leader, grantee=secretary).exists():
        actions.grant_access(leader, secretary.pk, AccessLevel.KEEP)
        stats["office_access_granted"] = 1
    if not Event.objects.filter(owner=leader).exists():
        monday = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        monday -= timedelta(days=monday.weekday())
        for day, hour, minutes, title, place, rrule in WEEK:
            start = monday + timedelta(days=day, hours=hour)
            actions.create_event(
                secretary,
                leader,
                actions.EventData(
                    title=title,
                    place=place,
                    start=start,
                    end=start + timedelta(minutes=minutes),
                    rrule=rrule,
                    remind_minutes=30,
                    attendees=[people["director"].pk] if day == 0 else [],
                ),
            )
            stats["office_events_created"] += 1
    for number, user in enumerate(
        User.objects.filter(
            username__in=[
                "mayor",
                "leader1",
                "leader2",
                "leader3",
                "secretary1",
                "director",
                "clerk",
                "custodian",
                "office_admin",
                "office_staff",
                "b_clerk",
                "b_leader",
            ]
        ).order_by("username")
    ):
        _card, created = ContactCard.objects.get_or_create(
            user=user,
            defaults={"office_phone": f"0571-8709{1000 + number}", "room": f"{300 + number}"},
        )
        stats["office_cards_created"] += int(created)
    return stats
