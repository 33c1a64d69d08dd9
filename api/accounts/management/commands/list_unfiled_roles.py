"""``manage.py list_unfiled_roles``: every assignment of a sensitive role (unit admin,
clerk, leader, seal custodian, supervisor) that no approved appointment request (备案)
backs, for the city IT department's review — the grants made directly before filing
covered every sensitive role, by seeding or by hand. Read-only; it changes nothing.
Docs: docs/organisation.md#reviewing-direct-grants.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from api.accounts.models import FILED_ROLES
from api.accounts.roles import supervises_own_unit
from api.accounts.selectors import unfiled_role_grants


class Command(BaseCommand):
    help = "List sensitive role grants that no approved appointment request backs."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--role", action="append", choices=sorted(FILED_ROLES), help="only these roles"
        )
        parser.add_argument("--json", action="store_true", help="one JSON object per line")
        parser.add_argument(
            "--fail-if-any",
            action="store_true",
            help="exit with status 1 when anything is listed (for a periodic check)",
        )

    def handle(self, *args, **options) -> None:
        grants = unfiled_role_grants()
        if options["role"]:
            grants = grants.filter(role__in=options["role"])
        count = 0
        for grant in grants.iterator(chunk_size=500):
            count += 1
            own = supervises_own_unit(grant.user, grant.role, grant.unit)
            row = {
                "assignment_id": grant.pk,
                "user_id": grant.user_id,
                "username": grant.user.username,
                "display_name": grant.user.display_name,
                "role": grant.role,
                "unit_id": grant.unit_id,
                "unit": grant.unit.name,
                "granted_at": grant.granted_at.isoformat(),
                "supervisor_own_unit": own,
            }
            if options["json"]:
                self.stdout.write(json.dumps(row, ensure_ascii=False))
            else:
                flag = "  ! supervises own unit" if own else ""
                self.stdout.write(
                    f"{grant.pk}\t{grant.role}\t{grant.unit.name}\t{grant.user.username}"
                    f"\t{grant.user.display_name}\t{grant.granted_at:%Y-%m-%d %H:%M}{flag}"
                )
        if not options["json"]:
            self.stdout.write(f"{count} direct grant(s) without an approved appointment request.")
        if count and options["fail_if_any"]:
            raise CommandError(f"{count} unfiled role grant(s)", returncode=1)
