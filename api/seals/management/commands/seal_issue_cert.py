"""``manage.py seal_issue_cert --unit CODE [--image FILE]``: issue a unit's signing
certificate and bind its seal. Docs: docs/seals.md#commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from api.accounts.models import Unit
from api.common.errors import ApiError
from api.seals import actions, ca


class Command(BaseCommand):
    help = "Issue a unit signing certificate (and the unit's seal) from the deployment CA."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--unit", required=True, help="the unit's code")
        parser.add_argument("--image", help="a PNG or JPEG scan of the seal (else the default)")
        parser.add_argument("--days", type=int, default=ca.UNIT_CERT_DAYS)

    def handle(self, *args: Any, **options: Any) -> None:
        unit = Unit.objects.filter(code=options["unit"]).first()
        if unit is None:
            raise CommandError(f"no unit with code {options['unit']!r}")
        if not 1 <= options["days"] <= 3650:
            raise CommandError("--days must be between 1 and 3650")
        image, image_name = None, None
        if options["image"]:
            path = Path(options["image"])
            if not path.is_file():
                raise CommandError(f"{path} is not a file")
            image, image_name = path.read_bytes(), path.name
        try:
            seal = actions.issue_seal(
                unit, image=image, image_name=image_name, days=options["days"]
            )
        except ApiError as exc:
            raise CommandError(exc.code) from exc
        cert = seal.certificate
        self.stdout.write(
            f"certificate {cert.serial} issued to {unit.name} ({unit.code}), "
            f"valid until {cert.not_after:%Y-%m-%d}; seal {seal.pk}"
        )
