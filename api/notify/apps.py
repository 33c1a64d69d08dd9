"""App config for api.notify. Docs: docs/notifications.md."""

from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "api.notify"
    label = "notify"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Every process (web, worker, beat) must announce new notifications to the live
        # streams: escalations and urges are created in the worker (docs/notifications.md).
        from api.notify import live  # noqa: F401
