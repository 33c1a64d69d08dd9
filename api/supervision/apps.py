"""App config for api.supervision. Docs: docs/supervision.md."""

from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "api.supervision"
    label = "supervision"
    default_auto_field = "django.db.models.BigAutoField"
