"""Request and response shapes of the publishing API. Docs: docs/publishing.md#api.

Responses are plain dicts built by ``post_item`` / ``post_detail`` / ``channel_item``
from rows loaded with their references; the serializers document them for OpenAPI and
validate requests (unknown fields → 400 ``unknown_field``). Body, audience and
choices are checked again by the actions (api/publishing/actions/posts.py).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.common.datetimes import client_datetime
from api.common.serializers import StrictSerializer
from api.publishing.models import Channel, Post, PostAttachment


def unit_ref(unit: Any) -> dict[str, Any] | None:
    return None if unit is None else {"id": unit.pk, "name": unit.name}


def channel_item(channel: Channel) -> dict[str, Any]:
    return {
        "id": channel.pk,
        "name": channel.name,
        "code": channel.code,
        "unit": unit_ref(channel.unit),
        "description": channel.description,
        "read_only": channel.read_only,
    }


def post_item(post: Post, read_ids: set[int] | None = None) -> dict[str, Any]:
    """The list shape (what a news list row shows)."""
    item = {
        "id": post.pk,
        "channel": {"id": post.channel_id, "name": post.channel.name},
        "title": post.title,
        "summary": post.summary,
        "author_unit": unit_ref(post.author_unit),
        "state": post.state,
        "must_read": post.must_read,
        "pinned": post.pinned,
        "published_at": client_datetime(post.published_at),
        "has_cover": bool(post.cover_thumb_key),
    }
    if read_ids is not None:
        item["read"] = post.pk in read_ids
    return item


def attachment_item(post: Post, attachment: PostAttachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "name": attachment.original_name,
        "kind": attachment.kind,
        "size": attachment.size,
        "url": f"/api/v1/posts/{post.pk}/attachments/{attachment.pk}/",
    }


def post_detail(
    post: Post, *, read_at: Any, attachments: list[PostAttachment], can_manage: bool
) -> dict[str, Any]:
    detail = {
        **post_item(post),
        "body": post.body,
        "author": None
        if post.author is None
        else {"id": post.author.pk, "display_name": post.author.display_name},
        "audience": post.audience,
        "read_deadline": client_datetime(post.read_deadline),
        "ends_at": client_datetime(post.ends_at),
        "read_at": client_datetime(read_at),
        "version": post.version,
        "source_url": post.source_url,
        "cover": f"/api/v1/posts/{post.pk}/cover/" if post.cover_key else None,
        "attachments": [attachment_item(post, a) for a in attachments],
    }
    if can_manage:
        detail.update(
            {
                "review_opinion": post.review_opinion,
                "published_by": None
                if post.published_by is None
                else {"id": post.published_by.pk, "display_name": post.published_by.display_name},
                "withdrawn_at": client_datetime(post.withdrawn_at),
                "withdraw_reason": post.withdraw_reason,
            }
        )
    return detail


# --- OpenAPI shapes -------------------------------------------------------------------


class PubRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ChannelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    code = serializers.CharField()
    unit = PubRefSerializer(allow_null=True)
    description = serializers.CharField()

    def get_fields(self) -> dict[str, serializers.Field]:
        # "read_only" would shadow Field.read_only as a class attribute.
        return {**super().get_fields(), "read_only": serializers.BooleanField()}


class ChannelPageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = ChannelSerializer(many=True)


class ChannelCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=60)
    code = serializers.SlugField(max_length=40)
    unit_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class PostItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    channel = PubRefSerializer()
    title = serializers.CharField()
    summary = serializers.CharField()
    author_unit = PubRefSerializer()
    state = serializers.CharField(help_text="draft, pending, returned, published, withdrawn")
    must_read = serializers.BooleanField()
    pinned = serializers.BooleanField()
    published_at = serializers.DateTimeField(allow_null=True)
    has_cover = serializers.BooleanField()
    read = serializers.BooleanField(required=False)


class PostPageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = PostItemSerializer(many=True)


class ChannelNewsSerializer(PostPageSerializer):
    pinned = PostItemSerializer(many=True)


class PostParagraphSerializer(serializers.Serializer):
    level = serializers.IntegerField(min_value=0, max_value=4)
    text = serializers.CharField(allow_blank=True)


class AudienceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["city", "subtree", "units", "roles"])
    unit_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    roles = serializers.ListField(child=serializers.CharField(), required=False)


class PostAttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    size = serializers.IntegerField()
    url = serializers.CharField()


class PostDetailSerializer(PostItemSerializer):
    body = PostParagraphSerializer(many=True)
    audience = AudienceSerializer()
    read_deadline = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    read_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField()
    source_url = serializers.CharField()
    cover = serializers.CharField(allow_null=True)
    attachments = PostAttachmentSerializer(many=True)


class PostWriteSerializer(StrictSerializer):
    """Fields of a post; on create ``channel`` and ``title`` are required."""

    channel = serializers.IntegerField(min_value=1, required=False)
    title = serializers.CharField(max_length=200, required=False)
    body = serializers.JSONField(required=False)
    audience = serializers.JSONField(required=False)
    must_read = serializers.BooleanField(required=False)
    read_deadline = serializers.DateTimeField(required=False, allow_null=True)
    pinned = serializers.BooleanField(required=False)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)


class OpinionSerializer(StrictSerializer):
    opinion = serializers.CharField(max_length=500, required=False, allow_blank=True)


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500)


class EmptySerializer(StrictSerializer):
    pass


class ReadSerializer(serializers.Serializer):
    post_id = serializers.IntegerField()
    read_at = serializers.DateTimeField()


class UnitProgressSerializer(serializers.Serializer):
    unit = PubRefSerializer()
    total = serializers.IntegerField()
    read = serializers.IntegerField()
    unread = serializers.IntegerField()


class ReaderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    unit = PubRefSerializer()
    read_at = serializers.DateTimeField(allow_null=True)


class ReadersSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    read = serializers.IntegerField()
    unread = serializers.IntegerField()
    by_unit = UnitProgressSerializer(many=True)
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = ReaderSerializer(many=True)


class PostVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    edited_at = serializers.DateTimeField()
    edited_by = serializers.IntegerField(allow_null=True)
    snapshot = serializers.JSONField()


class SearchHitSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.IntegerField()
    title = serializers.CharField()
    summary = serializers.CharField()
    channel = PubRefSerializer()
    author_unit = PubRefSerializer()
    published_at = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField()


class SearchPageSerializer(serializers.Serializer):
    q = serializers.CharField()
    terms = serializers.ListField(child=serializers.CharField())
    next = serializers.CharField(allow_null=True)
    results = SearchHitSerializer(many=True)
