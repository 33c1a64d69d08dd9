"""App config of api.submissions. Docs: docs/submissions.md."""

from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    name = "api.submissions"
    label = "submissions"
    default_auto_field = "django.db.models.BigAutoField"
