"""App config for api.integrations.video. Docs: docs/integrations.md#video."""

from django.apps import AppConfig


class VideoConfig(AppConfig):
    name = "api.integrations.video"
    label = "integrations_video"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api.integrations.video import connector

        connector.register_spec()
