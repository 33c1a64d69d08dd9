"""App config for api.office (个人办公). Docs: docs/personal-office.md."""

from django.apps import AppConfig


class OfficeConfig(AppConfig):
    name = "api.office"
    label = "office"
    default_auto_field = "django.db.models.BigAutoField"
