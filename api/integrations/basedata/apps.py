"""App config for api.integrations.basedata. Docs: docs/integrations.md#base-data."""

from django.apps import AppConfig


class BaseDataConfig(AppConfig):
    name = "api.integrations.basedata"
    label = "integrations_basedata"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api.integrations import registry
        from api.integrations.basedata.connector import SPEC

        registry.register(SPEC)
