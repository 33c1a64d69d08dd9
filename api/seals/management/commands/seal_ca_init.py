"""``manage.py seal_ca_init``: create the deployment CA once. Docs: docs/seals.md#commands."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from api.common.errors import ApiError
from api.seals import ca


class Command(BaseCommand):
    help = "Create the deployment seal CA under GOVDESK_SEAL_DIR (refuses to overwrite)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--common-name", default=ca.CA_COMMON_NAME)
        parser.add_argument("--days", type=int, default=ca.CA_DAYS)

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["days"] <= 36500:
            raise CommandError("--days must be between 1 and 36500")
        try:
            cert = ca.init_ca(common_name=options["common_name"], days=options["days"])
        except ApiError as exc:
            raise CommandError(f"{exc.code}: {ca.ca_cert_path()} already exists") from exc
        self.stdout.write(
            f"CA created: {cert.subject.rfc4514_string()}, serial {cert.serial_number:x}, "
            f"valid until {cert.not_valid_after_utc:%Y-%m-%d}; certificate {ca.ca_cert_path()}"
        )
