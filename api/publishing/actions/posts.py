"""The publishing flow of a post: draft → submit → (return with an opinion | publish) →
published → withdraw (撤稿); edits keep versions. Docs: docs/publishing.md#the-flow.

A small state machine, not the workflow engine (docs/publishing.md explains why). Each
function checks first (404 / 403 recorded with ``record_denied``), then runs one
transaction that locks the post, changes it, and records the audit event last.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from api.accounts.models import User
from api.audit.recorder import record, record_denied
from api.common.datetimes import client_datetime
from api.common.errors import ApiError, Conflict, Forbidden
from api.common.i18n import t
from api.common.search import search_document
from api.documents.fields import bad_text, clean_body
from api.publishing import audience as audiences
from api.publishing import selectors
from api.publishing.models import (
    Post,
    PostAttachment,
    PostAudience,
    PostState,
    PostVersion,
    ReadReceipt,
)

EDITABLE = ("title", "body", "audience", "must_read", "read_deadline", "pinned", "ends_at")
MAX_TITLE = 200
MAX_REASON = 500
RECEIPT_BATCH = 2000
AUTHOR_EDITABLE_STATES = (PostState.DRAFT, PostState.RETURNED)


def _field(name: str, zh: str, en: str) -> ApiError:
    return ApiError("validation_error", fields={name: [t(zh, en)]})


def _clean_reason(reason: Any, name: str) -> str:
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise _field(name, "请填写理由（500 字以内）。", f"Give a reason (at most {MAX_REASON}).")
    if bad_text(reason):
        raise _field(name, "包含无效字符。", "Contains invalid characters.")
    return reason.strip()


def summary_of(body: list[dict[str, Any]]) -> str:
    for paragraph in body:
        text = paragraph["text"].strip()
        if text and paragraph["level"] == 0:
            return text[:120]
    return (body[0]["text"].strip() if body else "")[:120]


def clean_fields(values: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "title" in values:
        title = values["title"]
        if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
            raise _field("title", "标题不能为空，且不超过 200 字。", "A title of 1–200 characters.")
        if bad_text(title):
            raise _field("title", "包含无效字符。", "Contains invalid characters.")
        cleaned["title"] = title.strip()
    if "body" in values:
        cleaned["body"] = clean_body(values["body"])
    if "audience" in values:
        cleaned["audience"] = audiences.clean(values["audience"])
    for flag in ("must_read", "pinned"):
        if flag in values:
            if not isinstance(values[flag], bool):
                raise _field(flag, "须为 true 或 false。", "Must be true or false.")
            cleaned[flag] = values[flag]
    for when in ("read_deadline", "ends_at"):
        if when in values:
            if values[when] is not None and not isinstance(values[when], datetime):
                raise _field(when, "时间无效。", "Not a valid time.")
            cleaned[when] = values[when]
    return cleaned


def snapshot(post: Post) -> dict[str, Any]:
    return {
        "title": post.title,
        "body": post.body,
        "audience": post.audience,
        "must_read": post.must_read,
        "read_deadline": client_datetime(post.read_deadline),
        "pinned": post.pinned,
        "ends_at": client_datetime(post.ends_at),
        "state": post.state,
        "attachments": list(
            PostAttachment.objects.filter(post=post, deleted_at__isnull=True).values_list(
                "pk", flat=True
            )
        ),
    }


def refresh_search(post: Post) -> None:
    """Recompute the search document (title, paragraphs, attachments' text)."""
    texts = list(
        PostAttachment.objects.filter(post=post, deleted_at__isnull=True).values_list(
            "text", flat=True
        )
    )
    post.search_text = search_document(
        post.title, *(p["text"] for p in post.body), post.summary, *texts
    )


def _lock(post_id: int) -> Post:
    return Post.objects.select_for_update().select_related("channel", "author_unit").get(pk=post_id)


def _deny(actor: User, post: Post | None, action: str, reason: str) -> Forbidden:
    record_denied(action, actor=actor, obj=post, detail={"reason": reason})
    return Forbidden()


def _require_publisher(actor: User, post: Post, action: str) -> None:
    if not selectors.is_publisher(actor, post.author_unit):
        raise _deny(actor, post, action, "not_publisher")


def _require_state(post: Post, allowed: tuple[str, ...]) -> None:
    if post.state not in allowed:
        raise Conflict(
            "post_state_conflict",
            message=t("稿件当前状态不允许此操作。", "The post's state does not allow this."),
            extra={"state": post.state},
        )


def set_audience_keys(post: Post) -> None:
    PostAudience.objects.filter(post=post).delete()
    PostAudience.objects.bulk_create(
        [PostAudience(post=post, key=key) for key in audiences.keys_of(post.audience)]
    )


def write_receipts(post: Post) -> int:
    """One unread receipt per person of a must-read post's audience (existing rows
    untouched). Returns the number of people now addressed."""
    people = audiences.members(post.audience).values_list("pk", "unit_id").order_by("pk")
    batch: list[ReadReceipt] = []
    now = timezone.now()
    for user_id, unit_id in people.iterator(chunk_size=RECEIPT_BATCH):
        batch.append(ReadReceipt(post=post, user_id=user_id, unit_id=unit_id, created_at=now))
        if len(batch) >= RECEIPT_BATCH:
            ReadReceipt.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    if batch:
        ReadReceipt.objects.bulk_create(batch, ignore_conflicts=True)
    return ReadReceipt.objects.filter(post=post).count()


# --- create and edit ------------------------------------------------------------------


def create_post(channel_id: int, actor: User, values: dict[str, Any]) -> Post:
    """A draft in ``channel`` by ``actor`` for their unit; audience defaults to the
    author unit and its subtree."""
    channel = selectors.channel_or_404(actor, channel_id)
    if not selectors.can_post_in(actor, channel):
        raise _deny(actor, None, "post.create", "channel_closed_to_unit")
    cleaned = clean_fields(values)
    if "title" not in cleaned:
        raise _field("title", "标题不能为空。", "The title is required.")
    unit = selectors.author_unit_of(actor)
    cleaned.setdefault("audience", {"kind": "subtree", "unit_ids": [unit.pk]})
    cleaned.setdefault("body", [])
    now = timezone.now()
    with transaction.atomic():
        post = Post(
            channel=channel,
            author=actor,
            author_unit=unit,
            created_at=now,
            updated_at=now,
            **cleaned,
        )
        post.summary = summary_of(post.body)
        post.search_text = search_document(post.title, *(p["text"] for p in post.body))
        post.save()
        record(
            "post.created",
            actor=actor,
            obj=post,
            unit_id=unit.pk,
            detail={"channel": channel.code, "title": post.title},
        )
    return post


def update_post(post_id: int, actor: User, values: dict[str, Any]) -> Post:
    """Edit a post. The author edits a draft or a returned post; the unit's publisher
    edits it in any state but withdrawn. Editing a published post keeps the previous
    text as a version and re-keys the audience (new must-read readers get receipts)."""
    post = selectors.post_or_404(actor, post_id, "post.update")
    publisher = selectors.is_publisher(actor, post.author_unit)
    if not publisher and not (post.author_id == actor.pk and post.state in AUTHOR_EDITABLE_STATES):
        raise _deny(actor, post, "post.update", "not_editor")
    cleaned = clean_fields(values)
    if "pinned" in cleaned and not publisher:
        raise _deny(actor, post, "post.pin", "not_publisher")
    with transaction.atomic():
        post = _lock(post_id)
        _require_state(
            post, (PostState.DRAFT, PostState.PENDING, PostState.RETURNED, PostState.PUBLISHED)
        )
        changed = [
            name for name in EDITABLE if name in cleaned and getattr(post, name) != cleaned[name]
        ]
        if not changed:
            return post
        PostVersion.objects.create(
            post=post, version=post.version, snapshot=snapshot(post), edited_by=actor
        )
        for name in changed:
            setattr(post, name, cleaned[name])
        post.summary = summary_of(post.body)
        refresh_search(post)
        post.version += 1
        post.updated_at = timezone.now()
        post.save()
        if "audience" in changed:
            set_audience_keys(post)
        if post.state == PostState.PUBLISHED and post.must_read:
            write_receipts(post)
        record(
            "post.updated",
            actor=actor,
            obj=post,
            unit_id=post.author_unit_id,
            detail={"fields": changed, "version": post.version, "state": post.state},
        )
    return post


# --- the flow -------------------------------------------------------------------------


def submit_post(post_id: int, actor: User) -> Post:
    """The author sends a draft (or a returned post) to the unit's publisher."""
    post = selectors.post_or_404(actor, post_id, "post.submit")
    if post.author_id != actor.pk and not selectors.is_publisher(actor, post.author_unit):
        raise _deny(actor, post, "post.submit", "not_author")
    with transaction.atomic():
        post = _lock(post_id)
        _require_state(post, (PostState.DRAFT, PostState.RETURNED))
        post.state = PostState.PENDING
        post.updated_at = timezone.now()
        post.save(update_fields=["state", "updated_at"])
        record("post.submitted", actor=actor, obj=post, unit_id=post.author_unit_id)
    return post


def publish_post(post_id: int, actor: User, opinion: str = "") -> Post:
    """The unit's publisher approves and publishes (a draft or a post under review):
    the audience keys are written and, for a must-read, one receipt per reader."""
    post = selectors.post_or_404(actor, post_id, "post.publish")
    _require_publisher(actor, post, "post.publish")
    if opinion and (len(opinion) > MAX_REASON or bad_text(opinion)):
        raise _field("opinion", "意见过长或包含无效字符。", "The opinion is too long or invalid.")
    with transaction.atomic():
        post = _lock(post_id)
        _require_state(post, (PostState.DRAFT, PostState.PENDING))
        if not post.body and not post.title:
            raise _field("body", "正文不能为空。", "The body may not be empty.")
        now = timezone.now()
        post.state = PostState.PUBLISHED
        post.published_at = post.published_at or now
        post.published_by = actor
        post.review_opinion = opinion.strip()
        post.updated_at = now
        post.save()
        set_audience_keys(post)
        readers = write_receipts(post) if post.must_read else 0
        record(
            "post.published",
            actor=actor,
            obj=post,
            unit_id=post.author_unit_id,
            detail={
                "audience": post.audience,
                "must_read": post.must_read,
                "readers": readers,
                "opinion": post.review_opinion,
            },
        )
    return post


def return_post(post_id: int, actor: User, opinion: Any) -> Post:
    """The publisher sends a post under review back to its author with an opinion."""
    post = selectors.post_or_404(actor, post_id, "post.return")
    _require_publisher(actor, post, "post.return")
    text = _clean_reason(opinion, "opinion")
    with transaction.atomic():
        post = _lock(post_id)
        _require_state(post, (PostState.PENDING,))
        post.state = PostState.RETURNED
        post.review_opinion = text
        post.updated_at = timezone.now()
        post.save(update_fields=["state", "review_opinion", "updated_at"])
        record(
            "post.returned",
            actor=actor,
            obj=post,
            unit_id=post.author_unit_id,
            detail={"opinion": text},
        )
    return post


def withdraw_post(post_id: int, actor: User, reason: Any) -> Post:
    """撤稿: the publisher takes a published post down, with a reason. Readers get a 404
    from then on; the receipts stay for the record."""
    post = selectors.post_or_404(actor, post_id, "post.withdraw")
    _require_publisher(actor, post, "post.withdraw")
    text = _clean_reason(reason, "reason")
    with transaction.atomic():
        post = _lock(post_id)
        _require_state(post, (PostState.PUBLISHED,))
        now = timezone.now()
        post.state = PostState.WITHDRAWN
        post.withdrawn_at = now
        post.withdrawn_by = actor
        post.withdraw_reason = text
        post.updated_at = now
        post.save()
        record(
            "post.withdrawn",
            actor=actor,
            obj=post,
            unit_id=post.author_unit_id,
            detail={"reason": text},
        )
    return post
