"""App config for api.integrations. Docs: docs/integrations.md."""

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "api.integrations"
    label = "integrations"
    default_auto_field = "django.db.models.BigAutoField"
