"""Portal state changes: a person's choice of blocks and channels. Docs: docs/portal.md."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from api.accounts.models import User
from api.audit.recorder import record
from api.common.errors import ApiError
from api.common.i18n import t
from api.common.params import MAX_ID
from api.portal.models import PortalPreference
from api.portal.selectors import BLOCKS, MAX_CHANNELS, forget_layout
from api.publishing.models import Channel


def _bad(field: str, zh: str, en: str) -> ApiError:
    return ApiError("validation_error", fields={field: [t(zh, en)]})


def save_preferences(user: User, blocks: Any, channel_ids: Any) -> PortalPreference:
    """Choose and order the home's blocks and channels (each list without repeats)."""
    if not isinstance(blocks, list) or any(b not in BLOCKS for b in blocks):
        raise _bad(
            "blocks",
            "区块无效，可选：" + "、".join(BLOCKS),
            "Blocks are some of: " + ", ".join(BLOCKS),
        )
    if len(set(blocks)) != len(blocks):
        raise _bad("blocks", "区块重复。", "A block is listed twice.")
    if (
        not isinstance(channel_ids, list)
        or len(channel_ids) > MAX_CHANNELS
        or any(not isinstance(i, int) or isinstance(i, bool) for i in channel_ids)
        or len(set(channel_ids)) != len(channel_ids)
    ):
        raise _bad(
            "channel_ids", "栏目无效或过多。", f"At most {MAX_CHANNELS} distinct channel ids."
        )
    # An id no bigint column can hold names no channel (and would overflow the query).
    storable = [i for i in channel_ids if 0 < i <= MAX_ID]
    found = set(
        Channel.objects.filter(pk__in=storable, is_active=True).values_list("pk", flat=True)
    )
    missing = [i for i in channel_ids if i not in found]
    if missing:
        raise _bad("channel_ids", "栏目不存在。", "A channel does not exist.")
    with transaction.atomic():
        preference, _ = PortalPreference.objects.select_for_update().get_or_create(user=user)
        preference.blocks = blocks
        preference.channel_ids = channel_ids
        preference.updated_at = timezone.now()
        preference.save()
        record(
            "portal.preferences_saved",
            actor=user,
            object_type="portal.portalpreference",
            object_id=preference.pk,
            detail={"blocks": blocks, "channel_ids": channel_ids},
        )
        user_id = user.pk
        transaction.on_commit(lambda: forget_layout(user_id))
    return preference
