"""App config for api.stats. Docs: docs/supervision.md."""

from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "api.stats"
    label = "stats"
    default_auto_field = "django.db.models.BigAutoField"
