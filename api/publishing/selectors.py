"""Read side of publishing: who may write, review and see which posts.

Docs: docs/publishing.md#who-can-do-what. A published post is seen by its audience
(one EXISTS on the audience keys); drafts, posts under review, returned and withdrawn
posts only by the author side: the author and the publishers of the author unit.
Anything else is a 404, recorded.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from api.accounts import roles
from api.accounts.models import Unit, User
from api.audit.recorder import record_denied
from api.common.errors import NotFound
from api.publishing.audience import visible_filter
from api.publishing.models import Channel, Post, PostState, Publisher, ReadReceipt

LIST_RELATED = ("channel", "author_unit")


def author_unit_of(user: User) -> Unit:
    """The unit a person writes for: the body (机关) of their unit."""
    return roles.organisation_of(user.unit)


def is_publisher(user: User, unit: Unit) -> bool:
    if roles.can_manage_unit(user, unit):
        return True
    return Publisher.objects.filter(user=user, unit=unit).exists()


def published_units(user: User) -> list[int]:
    """Units whose posts ``user`` reviews (grants and unit-admin roots)."""
    ids = set(Publisher.objects.filter(user=user).values_list("unit_id", flat=True))
    ids.update(u.pk for u in roles.admin_units(user))
    return sorted(ids)


def can_post_in(user: User, channel: Channel) -> bool:
    if channel.read_only or not channel.is_active:
        return False
    return channel.unit_id is None or channel.unit_id == author_unit_of(user).pk


def channels_visible() -> QuerySet[Channel]:
    return Channel.objects.filter(is_active=True).select_related("unit")


def channel_or_404(user: User, channel_id: int) -> Channel:
    channel = channels_visible().filter(pk=channel_id).first()
    if channel is None:
        raise NotFound()
    return channel


def published_for(user: User, *, include_ended: bool = True) -> QuerySet[Post]:
    """Published posts whose audience includes ``user``, newest first; pinned ones
    first when the caller orders by ``-pinned``."""
    queryset = Post.objects.filter(state=PostState.PUBLISHED).filter(visible_filter(user))
    if not include_ended:
        now = timezone.now()
        queryset = queryset.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    return queryset


def author_side(user: User) -> Q:
    """Posts the user wrote, or that a unit they publish for wrote."""
    return Q(author=user) | Q(author_unit_id__in=published_units(user))


def workbench(user: User) -> QuerySet[Post]:
    """The author side's own posts in every state (drafts, review queue, history)."""
    return Post.objects.filter(author_side(user)).select_related(*LIST_RELATED)


def can_see(user: User, post: Post) -> bool:
    if post.author_id == user.pk or is_publisher(user, post.author_unit):
        return True
    if post.state != PostState.PUBLISHED:
        return False
    return published_for(user).filter(pk=post.pk).exists()


def post_or_404(user: User, post_id: int, action: str = "post.view") -> Post:
    post = (
        Post.objects.select_related("channel", "author_unit", "author", "published_by")
        .filter(pk=post_id)
        .first()
    )
    if post is None:
        raise NotFound()
    if not can_see(user, post):
        record_denied(action, actor=user, obj=post, detail={"reason": "outside_audience"})
        raise NotFound()
    return post


def read_post_ids(user: User, post_ids: list[int]) -> set[int]:
    """Which of these posts the user has read (one query)."""
    if not post_ids:
        return set()
    return set(
        ReadReceipt.objects.filter(
            user=user, post_id__in=post_ids, read_at__isnull=False
        ).values_list("post_id", flat=True)
    )


def unread_must_reads(user: User) -> QuerySet[Post]:
    """Published must-read posts addressed to the user that they have not read, the
    nearest deadline first."""
    return (
        Post.objects.filter(
            state=PostState.PUBLISHED,
            must_read=True,
            receipts__user=user,
            receipts__read_at__isnull=True,
        )
        .select_related(*LIST_RELATED)
        .order_by("read_deadline", "-published_at", "-id")
    )


def reading_progress(post: Post) -> dict[str, int]:
    counts = ReadReceipt.objects.filter(post=post).aggregate(
        total=Count("id"), read=Count("id", filter=Q(read_at__isnull=False))
    )
    total, read = int(counts["total"] or 0), int(counts["read"] or 0)
    return {"total": total, "read": read, "unread": total - read}


def progress_by_unit(post: Post) -> list[dict[str, object]]:
    rows = (
        ReadReceipt.objects.filter(post=post)
        .values("unit_id", "unit__name")
        .annotate(total=Count("id"), read=Count("id", filter=Q(read_at__isnull=False)))
        .order_by("unit__name", "unit_id")
    )
    return [
        {
            "unit": {"id": r["unit_id"], "name": r["unit__name"]},
            "total": r["total"],
            "read": r["read"],
            "unread": r["total"] - r["read"],
        }
        for r in rows
    ]
