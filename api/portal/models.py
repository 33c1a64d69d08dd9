"""Portal (门户管理): a person's choice of home blocks and channels. Docs: docs/portal.md.

``blocks`` is the ordered list of block names shown (a subset of
``api.portal.selectors.BLOCKS``); ``channel_ids`` the ordered channels whose latest
posts the home shows. A person who never chose has no row: the defaults apply.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class PortalPreference(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_preference"
    )
    blocks = models.JSONField(default=list)
    channel_ids = models.JSONField(default=list)
    updated_at = models.DateTimeField(default=timezone.now)
