"""Demo data of 信息报送 (docs/submissions.md#demo): two editorial offices, the
journal 《新城政务信息》 with three published issues, a month of items from ten units,
an open call. The flow's unit leaders cz_leader and jy_leader are demo accounts
(api/accounts/demo_city.py).

Runs inside seed_demo's transaction; a second run changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from api.accounts.models import Unit, User
from api.common.search import search_document
from api.submissions import actions
from api.submissions.models import (
    Delivery,
    EditorialOffice,
    Journal,
    Submission,
    SubmissionState,
)

OFFICE = "市政府办公室信息科"
SECOND_OFFICE = "市委办公室信息科"
JOURNAL = "新城政务信息"
REPORTING = (
    ("XC-FGW", "b_clerk"),
    ("XC-YC-OFF", "yc_clerk"),
    ("XC-CZ", "cz_clerk"),
    ("XC-JY", "jy_clerk"),
    ("XC-GA", "ga_clerk"),
    ("XC-ZR", "zr_clerk"),
    ("XC-WJ", "wj_clerk"),
    ("XC-JW", "jw_clerk"),
    ("XC-SJ", "sj_clerk"),
    ("XC-GX-OFF", "gx_clerk"),
)
TOPICS = (
    "推进优化营商环境改革",
    "做好冬季供暖保障",
    "开展安全生产大检查",
    "推动数字政府建设",
    "加强基层社会治理",
    "促进消费回暖",
    "推进乡村振兴",
    "稳就业保民生",
)


def seed() -> int:
    """Returns the number of items created (0 when already seeded or the demo city
    lacks the units)."""
    if EditorialOffice.objects.filter(name=OFFICE).exists():
        return 0
    units = {
        u.code: u for u in Unit.objects.filter(code__in=[c for c, _ in REPORTING] + ["XC-OFF"])
    }
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=[n for _, n in REPORTING]
            + ["office_staff", "director", "leader1", "mayor"]
        )
    }
    if "XC-OFF" not in units or "office_staff" not in users:
        return 0
    office = EditorialOffice.objects.create(unit=units["XC-OFF"], name=OFFICE)
    office.editors.add(users["office_staff"])
    office.leaders.add(*[users[n] for n in ("director", "leader1", "mayor") if n in users])
    second = EditorialOffice.objects.create(unit=units["XC-OFF"], name=SECOND_OFFICE)
    second.editors.add(users["office_staff"])
    journal = Journal.objects.create(
        office=office,
        name=JOURNAL,
        level="city",
        distribution={"报": "市委、市人大、市政府、市政协领导", "发": "各区人民政府，市政府各部门"},
    )
    Journal.objects.create(office=second, name="领导参阅", level="city")
    editor, director = users["office_staff"], users.get("director")
    now = timezone.now()
    created = 0
    sent: list[Submission] = []
    for index in range(30):
        code, clerk_name = REPORTING[index % len(REPORTING)]
        if code not in units or clerk_name not in users:
            continue
        when = now - timedelta(days=30 - index)
        topic = TOPICS[index % len(TOPICS)]
        submission = Submission.objects.create(
            unit=units[code],
            author=users[clerk_name],
            title=f"{units[code].name}{topic}",
            body=f"{units[code].name}{topic}，取得阶段性成效。",
            category="综合",
            search_text=search_document(f"{units[code].name}{topic}", f"{units[code].name}{topic}"),
            state=SubmissionState.SUBMITTED,
            created_at=when,
            approved_at=when,
            submitted_at=when,
        )
        Delivery.objects.create(submission=submission, office=office, submitted_at=when)
        sent.append(submission)
        created += 1
    # Three published issues, each with three adopted items.
    for issue_index in range(3):
        issue = actions.create_issue(editor, journal.pk)
        for submission in sent[issue_index * 3 : issue_index * 3 + 3]:
            actions.adopt(
                submission.pk, editor, office_id=office.pk, issue_id=issue.pk, notify=False
            )
        if director is not None:
            actions.approve_issue(issue.pk, director)
            actions.publish_issue(issue.pk, editor, notify=False)
    actions.create_call(
        editor,
        office_id=office.pk,
        topic="年终工作亮点",
        deadline=now + timedelta(days=7),
        unit_ids=[units[c].pk for c, _ in REPORTING if c in units],
        description="请报送本单位全年工作亮点信息一至两篇。",
        notify=False,
    )
    return created
