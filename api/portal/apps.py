"""App config for api.portal (门户管理). Docs: docs/portal.md."""

from typing import Any

from django.apps import AppConfig


def _posts_changed(**_kwargs: Any) -> None:
    from django.db import transaction

    from api.portal.selectors import bump_news_generation

    # After the commit: a reader who computes the block meanwhile caches the old state
    # under the old generation, which nobody reads once this has run.
    transaction.on_commit(bump_news_generation)


class PortalConfig(AppConfig):
    name = "api.portal"
    label = "portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from api.publishing.models import Channel, Post

        for model in (Post, Channel):
            post_save.connect(_posts_changed, sender=model, dispatch_uid=f"portal.news.{model}")
            post_delete.connect(_posts_changed, sender=model, dispatch_uid=f"portal.news.d{model}")
