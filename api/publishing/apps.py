"""App config for api.publishing (信息管理). Docs: docs/publishing.md."""

from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "api.publishing"
    label = "publishing"
    default_auto_field = "django.db.models.BigAutoField"
