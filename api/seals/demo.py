"""DEMO ONLY: the demo city's seal. Docs: docs/seals.md#demo.

``seed_demo_seal()`` is called at the end of ``manage.py seed_demo`` (never in
production): it creates the deployment CA when there is none (as ``seal_ca_init``
would) and issues 市政府办公室 (unit XC-OFF) its certificate and default seal when
the unit has no active seal with a usable (unrevoked, unexpired) certificate.
Idempotent: a second run changes nothing and returns an empty dict.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from api.accounts.models import Unit
from api.seals import ca
from api.seals.actions import issue_seal
from api.seals.models import Seal, SealCertificate

DEMO_SEAL_UNIT = "XC-OFF"  # 新城市人民政府办公室 (市政府办公室), api/demo/city.py


def seed_demo_seal() -> dict[str, int]:
    """→ what changed: {"seal_ca_created": 1, "seals_issued": 1} (keys only when 1)."""
    if settings.PRODUCTION:
        raise RuntimeError("the demo seal is never seeded in production")
    unit = Unit.objects.filter(code=DEMO_SEAL_UNIT).first()
    if unit is None:
        return {}
    changes: dict[str, int] = {}
    if not ca.ca_exists():
        ca.init_ca()
        changes["seal_ca_created"] = 1
    seal = Seal.objects.filter(unit=unit, is_active=True).select_related("certificate").first()
    usable = (
        seal is not None
        and not seal.certificate.is_revoked
        and seal.certificate.not_after > timezone.now()
    )
    if not usable:
        # An unrevoked but unusable certificate (expired) must be revoked first.
        if SealCertificate.objects.filter(unit=unit, revoked_at__isnull=True).exists():
            ca.revoke_unit_certificate(unit, reason="superseded")
        issue_seal(unit)
        changes["seals_issued"] = 1
    return changes
