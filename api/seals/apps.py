"""Electronic seals (电子印章). Docs: docs/seals.md."""

from django.apps import AppConfig


class SealsConfig(AppConfig):
    name = "api.seals"
    label = "seals"
    verbose_name = "电子印章 Electronic seals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api.seals import checks  # noqa: F401  (registers the system checks)
