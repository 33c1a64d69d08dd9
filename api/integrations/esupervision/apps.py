"""App config for api.integrations.esupervision. Docs: docs/integrations.md#e-supervision."""

from django.apps import AppConfig


class ESupervisionConfig(AppConfig):
    name = "api.integrations.esupervision"
    label = "integrations_esupervision"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api.integrations.esupervision import connector, figures

        # Events arrive through the connector layer (webhook and pull).
        connector.install()

        # Each unit's statistics row (api/stats, a lower layer) carries the e-supervision
        # figures through the contribution registry.
        figures.install()
