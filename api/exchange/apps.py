"""App config for api.exchange. Docs: docs/exchange.md."""

from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "api.exchange"
    label = "exchange"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api.exchange import receivers

        receivers.connect()
