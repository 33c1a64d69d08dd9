"""App config for api.integrations.basedata. Docs: docs/integrations.md#base-data."""

from django.apps import AppConfig


class BaseDataConfig(AppConfig):
    name = "api.integrations.basedata"
    label = "integrations_basedata"
    default_auto_field = "django.db.models.BigAutoField"
