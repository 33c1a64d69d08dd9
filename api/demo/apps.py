"""App config for api.demo (the demo city, ``seed_demo``). Docs: docs/demo.md."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "api.demo"
    label = "demo"
    default_auto_field = "django.db.models.BigAutoField"
