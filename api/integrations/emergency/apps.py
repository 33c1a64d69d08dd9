"""App config for api.integrations.emergency. Docs: docs/integrations.md#emergency.

``ready()`` registers the connector with the layer (api/integrations/registry.py).
"""

from django.apps import AppConfig


class EmergencyConfig(AppConfig):
    name = "api.integrations.emergency"
    label = "integrations_emergency"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api.integrations import registry
        from api.integrations.emergency.connector import SPEC

        registry.register(SPEC)
