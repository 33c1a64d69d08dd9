"""App config for api.urging. Docs: docs/urging.md."""

from django.apps import AppConfig


class UrgingConfig(AppConfig):
    name = "api.urging"
    label = "urging"
    default_auto_field = "django.db.models.BigAutoField"
