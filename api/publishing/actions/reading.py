"""Reading a post and the must-read reminder (必读提醒). Docs: docs/publishing.md#must-read.

``mark_read`` sets the reader's receipt (creating it for a reader who joined the
audience after publishing). ``remind_unread`` is run by the beat task for every
must-read post whose deadline has passed: it claims the post with a compare-and-set
on ``reminded_at`` (so two workers never remind twice) and sends one notification per
person who has not read it through api.notify (the in-app channel, push, then SMS by
the ladder), de-duplicated by (person, post).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from api.accounts.models import User
from api.audit.recorder import record
from api.notify.actions import Pending, notify_many
from api.notify.models import Kind
from api.publishing import selectors
from api.publishing.models import Post, PostState, ReadReceipt

REMIND_BATCH = 1000


def mark_read(post_id: int, actor: User) -> ReadReceipt:
    """The reader says they have read the post (idempotent: the first time counts)."""
    post = selectors.post_or_404(actor, post_id, "post.read")
    now = timezone.now()
    with transaction.atomic():
        receipt, created = ReadReceipt.objects.select_for_update().get_or_create(
            post=post, user=actor, defaults={"unit_id": actor.unit_id, "read_at": now}
        )
        if receipt.read_at is None:
            receipt.read_at = now
            receipt.save(update_fields=["read_at"])
        elif not created:
            return receipt
        record(
            "post.read",
            actor=actor,
            obj=post,
            unit_id=actor.unit_id,
            detail={"must_read": post.must_read},
        )
    return receipt


def due_for_reminder(now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(
        Post.objects.filter(
            state=PostState.PUBLISHED,
            must_read=True,
            reminded_at__isnull=True,
            read_deadline__lte=now,
        ).values_list("pk", flat=True)[:100]
    )


def remind_unread(post_id: int, now: datetime | None = None) -> int:
    """Remind everyone who has not read must-read ``post_id`` by its deadline. Returns
    the number of notifications written; 0 when already reminded or not due."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Post.objects.filter(
            pk=post_id,
            state=PostState.PUBLISHED,
            must_read=True,
            reminded_at__isnull=True,
            read_deadline__lte=now,
        ).update(reminded_at=now)
        if claimed != 1:
            return 0
        post = Post.objects.select_related("author_unit").get(pk=post_id)
        unread = (
            User.objects.filter(
                pk__in=ReadReceipt.objects.filter(post=post, read_at__isnull=True).values(
                    "user_id"
                ),
                is_active=True,
            )
            .only("pk")
            .order_by("pk")
        )
        title = f"必读提醒：{post.title}"[:200]
        body = f"{post.author_unit.name}发布的必读通知已到阅读期限，请尽快阅读。"
        sent = 0
        batch: list[Pending] = []
        for person in unread.iterator(chunk_size=REMIND_BATCH):
            batch.append(
                Pending(
                    recipient=person,
                    kind=Kind.SYSTEM,
                    title=title,
                    body=body,
                    urgency="high",
                    dedup_key=f"post-must-read:{post.pk}",
                )
            )
            if len(batch) >= REMIND_BATCH:
                sent += len(notify_many(batch, now=now))
                batch = []
        if batch:
            sent += len(notify_many(batch, now=now))
        record(
            "post.must_read_reminded",
            actor_username="system",
            obj=post,
            unit_id=post.author_unit_id,
            detail={"reminded": sent},
        )
    return sent
