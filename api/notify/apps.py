"""App config for api.notify. Docs: docs/notifications.md."""

from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "api.notify"
    label = "notify"
    default_auto_field = "django.db.models.BigAutoField"
