"""App config for api.integrations.citymgmt. Docs: docs/integrations.md#city-management.

``ready()`` registers the connector with the layer (api/integrations/registry.py).
"""

from django.apps import AppConfig


class CityManagementConfig(AppConfig):
    name = "api.integrations.citymgmt"
    label = "integrations_citymgmt"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api.integrations import registry
        from api.integrations.citymgmt.connector import SPEC

        registry.register(SPEC)
