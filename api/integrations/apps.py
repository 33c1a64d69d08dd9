"""App config for api.integrations. Docs: docs/integrations.md.

``ready()`` adds the ``integrations`` block to /api/v1/health/ through the hook
api.common offers (api.common sits below and never imports this app).
"""

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "api.integrations"
    label = "integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api.common.health import register_block
        from api.integrations.selectors import health_block
        from api.integrations.serializers import ConnectorHealthSerializer

        register_block(
            "integrations",
            health_block,
            ConnectorHealthSerializer(many=True, help_text="docs/integrations.md#health"),
            default=[],
        )
