"""Video meetings app. Docs: docs/meetings.md."""

from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "api.meetings"
    label = "meetings"
    default_auto_field = "django.db.models.BigAutoField"
