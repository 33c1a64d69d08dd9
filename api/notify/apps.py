"""App config for api.notify. Docs: docs/notifications.md."""

from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "api.notify"
    label = "notify"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # live: every process (web, worker, beat) must announce new notifications to the
        # live streams: escalations and urges are created in the worker.
        # receivers: the workflow's tasks_opening / task_read signals (api/workflow/signals.py).
        # checks: the zero-internet profile (notify.W001) and the Web Push settings
        # (notify.E001, notify.E002).
        # security_alerts: alerts to the city IT admins on lockout ceilings (docs/identity.md).
        from api.notify import checks, live, receivers, security_alerts  # noqa: F401
