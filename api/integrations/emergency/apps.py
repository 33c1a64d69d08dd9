"""App config for api.integrations.emergency. Docs: docs/integrations.md#emergency."""

from django.apps import AppConfig


class EmergencyConfig(AppConfig):
    name = "api.integrations.emergency"
    label = "integrations_emergency"
    default_auto_field = "django.db.models.BigAutoField"
