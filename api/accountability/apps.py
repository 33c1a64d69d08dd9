"""App config for api.accountability. Docs: docs/accountability.md."""

from django.apps import AppConfig


class AccountabilityConfig(AppConfig):
    name = "api.accountability"
    label = "accountability"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api.accountability import figures

        # The unit's yearly figures (api/stats, a lower layer) carry the cases about it
        # through the contribution registry (docs/accountability.md#yearly-figures).
        figures.install()
