"""App config for api.integrations.esupervision. Docs: docs/integrations.md#e-supervision."""

from django.apps import AppConfig


class ESupervisionConfig(AppConfig):
    name = "api.integrations.esupervision"
    label = "integrations_esupervision"
    default_auto_field = "django.db.models.BigAutoField"
