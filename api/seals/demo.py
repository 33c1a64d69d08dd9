"""DEMO ONLY: the demo city's seals. Docs: docs/seals.md#demo.

``seed_demo_seal()`` is called at the end of ``manage.py seed_demo`` (never in
production): it creates the deployment CA when there is none (as ``seal_ca_init``
would) and issues each unit whose demo outgoing flow ends in 分发 (which dispatches the
sealed PDF) — 市政府办公室 (XC-OFF) and 市发改委 (XC-FGW) — its certificate and default
seal when the unit has no active seal with a usable (unrevoked, unexpired) certificate.
Idempotent: a second run changes nothing and returns an empty dict.
"""

from __future__ import annotations

from collections import Counter

from django.conf import settings
from django.utils import timezone

from api.accounts.models import Unit
from api.seals import ca
from api.seals.actions import issue_seal
from api.seals.models import Seal, SealCertificate

# The units with a 用印 step and a 印章管理员 in the demo (api/demo/city.py,
# api/workflow/demo_templates.py).
DEMO_SEAL_UNITS = ("XC-OFF", "XC-FGW")
DEMO_SEAL_UNIT = DEMO_SEAL_UNITS[0]  # 新城市人民政府办公室 (市政府办公室)


def seed_demo_seal() -> dict[str, int]:
    """→ what changed: {"seal_ca_created": 1, "seals_issued": n} (keys only when > 0)."""
    if settings.PRODUCTION:
        raise RuntimeError("the demo seal is never seeded in production")
    units = list(Unit.objects.filter(code__in=DEMO_SEAL_UNITS).order_by("code"))
    if not units:
        return {}
    changes: Counter[str] = Counter()
    if not ca.ca_exists():
        ca.init_ca()
        changes["seal_ca_created"] = 1
    for unit in units:
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
            changes["seals_issued"] += 1
    return dict(changes)
