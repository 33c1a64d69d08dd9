"""DEMO ONLY: the demo city's exchange groups. Docs: docs/exchange.md#demo.

``seed_exchange_groups()`` is called at the end of ``manage.py seed_demo``: it creates
the groups that do not exist yet (matched by name) with their units. A group that
exists is left alone, so a city IT admin's later edits survive a second seeding.
The ten units of the two groups each have a clerk (api/demo/city.py).
"""

from __future__ import annotations

from django.conf import settings

from api.accounts.models import Unit
from api.exchange.models import ExchangeGroup

# A district government receives through its office (its 收发文员 sits there).
DEMO_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("全体区县政府", ("XC-YC-OFF", "XC-GX-OFF")),
    (
        "市直部门",
        ("XC-FGW", "XC-CZ", "XC-JY", "XC-GA", "XC-ZR", "XC-WJ", "XC-JW", "XC-SJ"),
    ),
)


def seed_exchange_groups() -> int:
    """Create the missing demo groups; returns how many were created."""
    if settings.PRODUCTION:
        raise RuntimeError("the demo exchange groups are never seeded in production")
    created = 0
    for name, codes in DEMO_GROUPS:
        if ExchangeGroup.objects.filter(name=name).exists():
            continue
        units = list(Unit.objects.filter(code__in=codes).values_list("pk", flat=True))
        if len(units) != len(codes):
            continue  # not the demo city
        group = ExchangeGroup.objects.create(name=name)
        group.units.set(units)
        created += 1
    return created
