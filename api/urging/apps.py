"""App config for api.urging. Docs: docs/urging.md."""

from django.apps import AppConfig


class UrgingConfig(AppConfig):
    name = "api.urging"
    label = "urging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Documents past their overall time limit (docs/urging.md#overdue-documents).
        import api.urging.receivers  # noqa: F401
