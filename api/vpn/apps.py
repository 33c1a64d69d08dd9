"""App config for api.vpn. Docs: docs/vpn.md."""

from django.apps import AppConfig


class VpnConfig(AppConfig):
    name = "api.vpn"
    label = "vpn"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api.vpn import checks  # noqa: F401  (registers the VPN settings checks vpn.E00x)
