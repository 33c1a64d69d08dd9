"""DEMO ONLY: mail threads between the demo accounts. Docs: docs/mail.md#demo.

``seed()`` is called by ``manage.py seed_demo``: the clerk writes to the office's
people, the director replies, leader2 writes to leader1 with the secretary in cc.
Idempotent: nothing is sent when the clerk has sent mail already.
"""

from __future__ import annotations

from django.conf import settings

from api.accounts.models import User
from api.mail import actions
from api.mail.models import Entry, Mail


def seed() -> dict[str, int]:
    if settings.PRODUCTION:
        raise RuntimeError("demo mail is never seeded in production")
    people = {
        u.username: u
        for u in User.objects.filter(
            username__in=["clerk", "director", "leader1", "leader2", "secretary1"]
        )
    }
    if len(people) < 5 or Mail.objects.filter(sender=people["clerk"]).exists():
        return {}
    clerk, director = people["clerk"], people["director"]
    first = actions.send(
        clerk,
        actions.Compose(
            subject="本周公文处理情况",
            body="主任：本周共收文 42 件、发文 17 件，均已按时办结。详见周报。",
            to=[f"user:{director.pk}"],
        ),
    )
    director_copy = Entry.objects.get(mail=first.mail, owner=director)
    actions.mark_read(director, director_copy.pk)
    actions.send(
        director,
        actions.Compose(
            subject="回复：本周公文处理情况",
            body="收到，辛苦了。下周请重点跟进防汛相关来文。",
            to=[f"user:{clerk.pk}"],
            in_reply_to=director_copy.pk,
        ),
    )
    actions.send(
        people["leader2"],
        actions.Compose(
            subject="关于周三调研安排",
            body="张市长：周三上午的调研是否可以调整到下午？请秘书回复。",
            to=[f"user:{people['leader1'].pk}"],
            cc=[f"user:{people['secretary1'].pk}"],
        ),
    )
    return {"mail_sent": 3}
