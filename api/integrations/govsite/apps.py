"""App config for api.integrations.govsite. Docs: docs/integrations.md#government-website."""

from django.apps import AppConfig


class GovSiteConfig(AppConfig):
    name = "api.integrations.govsite"
    label = "integrations_govsite"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api.integrations.govsite.connector import SPEC
        from api.integrations.registry import register

        register(SPEC)
