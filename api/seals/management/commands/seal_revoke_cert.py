"""``manage.py seal_revoke_cert --unit CODE --reason REASON``: revoke the unit's
certificate and rewrite the CRL. Docs: docs/seals.md#commands."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from api.accounts.models import Unit
from api.common.errors import ApiError
from api.seals import ca
from api.seals.models import RevocationReason


class Command(BaseCommand):
    help = "Revoke a unit's signing certificate (its seal is deactivated; the CRL rewritten)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--unit", required=True, help="the unit's code")
        parser.add_argument("--reason", required=True, choices=list(RevocationReason.values))

    def handle(self, *args: Any, **options: Any) -> None:
        unit = Unit.objects.filter(code=options["unit"]).first()
        if unit is None:
            raise CommandError(f"no unit with code {options['unit']!r}")
        try:
            row = ca.revoke_unit_certificate(unit, reason=options["reason"])
        except ApiError as exc:
            raise CommandError(exc.code) from exc
        assert row.revoked_at is not None
        self.stdout.write(
            f"certificate {row.serial} of {unit.name} revoked at {row.revoked_at.isoformat()} "
            f"({row.revocation_reason}); CRL written to {ca.crl_path()}"
        )
