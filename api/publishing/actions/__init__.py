"""Every state change of publishing (信息管理). Docs: docs/publishing.md.

posts — create, edit (versions), submit, publish, return, withdraw;
files — attachments and the cover image; reading — read receipts and the must-read
reminder; imports — the feed connector; grants — unit publishers.
"""

from api.publishing.actions.channels import create_channel
from api.publishing.actions.files import add_attachment, set_cover
from api.publishing.actions.grants import grant_publisher
from api.publishing.actions.imports import import_channel
from api.publishing.actions.posts import (
    create_post,
    publish_post,
    return_post,
    submit_post,
    update_post,
    withdraw_post,
)
from api.publishing.actions.reading import mark_read, remind_unread

__all__ = [
    "add_attachment",
    "create_channel",
    "create_post",
    "grant_publisher",
    "import_channel",
    "mark_read",
    "publish_post",
    "remind_unread",
    "return_post",
    "set_cover",
    "submit_post",
    "update_post",
    "withdraw_post",
]
