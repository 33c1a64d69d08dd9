"""App config for api.integrations.citymgmt. Docs: docs/integrations.md#city-management."""

from django.apps import AppConfig


class CityManagementConfig(AppConfig):
    name = "api.integrations.citymgmt"
    label = "integrations_citymgmt"
    default_auto_field = "django.db.models.BigAutoField"
