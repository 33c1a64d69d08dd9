"""``manage.py seed_demo [--scale city] [--reset-passwords] [--backfill]``: load the demo city.

Docs: docs/demo.md. Idempotent: units are matched by code, accounts by username,
posts by (unit, name); a second run changes nothing. Passwords (and the demo TOTP
secrets) are set when an account is created and left alone afterwards, unless
``--reset-passwords``. Refuses to run in production mode. Everything happens in one
transaction and ends with one ``demo.seeded`` audit event when anything changed.
``--backfill`` (which ``make demo`` passes) adds the documents submitted in the past that
show the time-limit rules (api/demo/backfill.py, docs/demo.md#backfilled-documents).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from api.accountability.demo import seed_case as seed_accountability  # docs/accountability.md
from api.accounts.actions.org import assign_path, move_subtree
from api.accounts.models import Post, Role, RoleAssignment, Unit, User
from api.audit.recorder import record
from api.demo import city as demo_city
from api.demo.backfill import seed_backfill
from api.exchange.demo import seed_exchange_groups  # docs/exchange.md#demo
from api.integrations.basedata.demo import seed as seed_basedata  # docs/integrations.md
from api.integrations.citymgmt.demo import seed as seed_city_cases  # docs/integrations.md
from api.integrations.emergency.demo import seed as seed_duty  # docs/integrations.md
from api.integrations.esupervision.demo import seed as seed_esupervision  # integrations.md
from api.integrations.video.demo import seed as seed_video  # docs/integrations.md#video
from api.mail.demo import seed as seed_mail  # docs/mail.md#demo
from api.meetings.demo import seed_demo_meeting  # docs/meetings.md#the-demo
from api.office.demo import seed as seed_office  # docs/personal-office.md#demo
from api.publishing.demo import seed as seed_publishing  # docs/publishing.md#demo
from api.seals.demo import seed_demo_seal  # docs/seals.md#demo
from api.submissions.demo import seed as seed_submissions  # docs/submissions.md#demo
from api.supervision.demo import seed_supervised_items  # docs/supervision.md
from api.workflow.demo_templates import (  # docs/workflow.md
    add_missing_seal_steps,
    seed_templates,
)

BATCH = 1000


def _sync(obj: Any, values: dict[str, Any]) -> bool:
    """Set the fields that differ and save only those; True when anything changed."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    if changed:
        obj.save(update_fields=changed)
    return bool(changed)


class Seeder:
    def __init__(self, password: str, *, reset_passwords: bool) -> None:
        self.password = password
        self.reset_passwords = reset_passwords
        self.now = timezone.now()
        self.stats: Counter[str] = Counter()
        self.units: dict[str, Unit] = {}

    # --- the demo city --------------------------------------------------------------------

    def seed_city(self) -> None:
        for spec in demo_city.DEMO_UNITS:
            self._unit(spec)
        users = {spec.username: self._account(spec) for spec in demo_city.DEMO_ACCOUNTS}
        for post in demo_city.DEMO_POSTS:
            self._post(post, users)

    def _unit(self, spec: demo_city.UnitSpec) -> Unit:
        parent = self.units[spec.parent] if spec.parent else None
        unit = Unit.objects.filter(code=spec.code).first()
        values = {
            "name": spec.name,
            "short_name": spec.short_name,
            "kind": spec.kind,
            "doc_prefix": spec.doc_prefix,
        }
        if unit is None:
            unit = Unit.objects.create(code=spec.code, parent=parent, **values)
            assign_path(unit)
            unit.save(update_fields=["path", "depth"])
            self.stats["units_created"] += 1
        else:
            if parent is not None and unit.parent_id != parent.pk:
                move_subtree(unit, parent)
                unit.save(update_fields=["parent", "path", "depth"])
                self.stats["units_updated"] += 1
            if _sync(unit, values):
                self.stats["units_updated"] += 1
        self.units[spec.code] = unit
        return unit

    def _account(self, spec: demo_city.AccountSpec) -> User:
        unit = self.units[spec.unit]
        values = {
            "display_name": spec.display_name,
            "unit_id": unit.pk,
            "title": spec.title,
            "is_active": True,
        }
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = User(username=spec.username, **values)
            user.set_password(self.password)
            user.password_changed_at = self.now
            user.save()
            self.stats["users_created"] += 1
        else:
            if _sync(user, values):
                self.stats["users_updated"] += 1
            if self.reset_passwords:
                user.set_password(self.password)
                _sync(user, {"password_changed_at": self.now, "must_change_password": False})
                user.save(update_fields=["password"])
                self.stats["passwords_reset"] += 1
        if spec.username in demo_city.TOTP_ACCOUNTS and (self.reset_passwords or not user.has_totp):
            changed = _sync(
                user,
                {
                    "totp_secret": demo_city.DEMO_TOTP_SECRET,
                    "totp_confirmed_at": user.totp_confirmed_at or self.now,
                    "totp_last_counter": user.totp_last_counter if user.has_totp else 0,
                },
            )
            self.stats["totp_set"] += int(changed)
        for role, scope in spec.roles:
            scope_unit = self.units[scope] if scope else unit
            _row, created = RoleAssignment.objects.get_or_create(
                user=user, role=role, unit=scope_unit
            )
            self.stats["roles_created"] += int(created)
        return user

    def _post(self, spec: demo_city.PostSpec, users: dict[str, User]) -> None:
        unit = self.units[spec.unit]
        holder, backup = users[spec.holder], users[spec.backup]
        post = Post.objects.filter(unit=unit, name=spec.name).first()
        if post is None:
            Post.objects.create(unit=unit, name=spec.name, holder=holder, backup=backup)
            self.stats["posts_created"] += 1
        elif _sync(post, {"holder_id": holder.pk, "backup_id": backup.pk}):
            self.stats["posts_updated"] += 1

    # --- the reference scale ------------------------------------------------------------------

    def seed_scale(self) -> None:
        specs = demo_city.scale_units()
        known = {
            u.code: u
            for u in Unit.objects.filter(code__in=[s.code for s in specs] + list(self.units))
        }
        pending = [s for s in specs if s.code not in known]
        while pending:
            # One tree level per round: bulk insert, then paths from the new ids.
            ready = [s for s in pending if s.parent in known]
            if not ready:
                raise CommandError("generated units refer to unknown parents")
            created = Unit.objects.bulk_create(
                [
                    Unit(
                        code=s.code,
                        name=s.name,
                        short_name=s.short_name,
                        kind=s.kind,
                        doc_prefix=s.doc_prefix,
                        parent=known[s.parent],  # type: ignore[index]
                    )
                    for s in ready
                ],
                batch_size=BATCH,
            )
            for unit in created:
                assign_path(unit)
                known[unit.code] = unit
            Unit.objects.bulk_update(created, ["path", "depth"], batch_size=BATCH)
            self.stats["units_created"] += len(created)
            ready_codes = {s.code for s in ready}
            pending = [s for s in pending if s.code not in ready_codes]

        unit_codes = [s.code for s in demo_city.DEMO_UNITS] + [s.code for s in specs]
        unit_ids = {code: known[code].pk for code in unit_codes}
        password_hash = make_password(self.password)  # one hash, shared by every generated user
        batch: list[demo_city.ScaleUser] = []
        for person in demo_city.scale_users(unit_codes):
            batch.append(person)
            if len(batch) == BATCH:
                self._scale_batch(batch, unit_ids, password_hash)
                batch = []
        if batch:
            self._scale_batch(batch, unit_ids, password_hash)

    def _scale_batch(
        self, batch: list[demo_city.ScaleUser], unit_ids: dict[str, int], password_hash: str
    ) -> None:
        existing = set(
            User.objects.filter(username__in=[p.username for p in batch]).values_list(
                "username", flat=True
            )
        )
        people = [p for p in batch if p.username not in existing]
        if not people:
            return
        users = User.objects.bulk_create(
            [
                User(
                    username=p.username,
                    display_name=p.display_name,
                    unit_id=unit_ids[p.unit],
                    title=p.title,
                    password=password_hash,
                    password_changed_at=self.now,
                    date_joined=self.now,
                )
                for p in people
            ],
            batch_size=BATCH,
        )
        roles = []
        for person, user in zip(people, users, strict=True):
            roles.append(RoleAssignment(user=user, role=Role.STAFF, unit_id=user.unit_id))
            if person.head:
                roles.append(RoleAssignment(user=user, role=Role.LEADER, unit_id=user.unit_id))
        RoleAssignment.objects.bulk_create(roles, batch_size=BATCH)
        self.stats["users_created"] += len(users)
        self.stats["roles_created"] += len(roles)


class Command(BaseCommand):
    help = "Load the demo city 新城市 (Xincheng); --scale city adds the reference scale."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--scale",
            choices=["demo", "city"],
            default="demo",
            help=f"city: {demo_city.SCALE_UNITS} units and {demo_city.SCALE_USERS} users "
            "in total (benchmarks)",
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="set every demo account's password (and demo TOTP secret) again",
        )
        parser.add_argument(
            "--backfill",
            action="store_true",
            help="add the documents submitted in the past that show the time-limit rules "
            "(docs/demo.md#backfilled-documents); make demo passes it",
        )

    def handle(self, *args, **options) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run in production mode (GOVDESK_MODE).")
        started = time.monotonic()
        seeder = Seeder(settings.GOVDESK_DEMO_PASSWORD, reset_passwords=options["reset_passwords"])
        with transaction.atomic():
            seeder.seed_city()
            if options["scale"] == "city":
                seeder.seed_scale()
            seeder.stats["workflow_templates_created"] += seed_templates()
            seeder.stats["missing_seal_steps_added"] += add_missing_seal_steps()
            seeder.stats.update(seed_demo_seal())
            seeder.stats["exchange_groups_created"] += seed_exchange_groups()
            seeder.stats["supervised_items_created"] += seed_supervised_items()
            seeder.stats["accountability_cases_created"] += seed_accountability()
            seeder.stats["meetings_created"] += seed_demo_meeting()
            seeder.stats.update(seed_office())
            seeder.stats.update(seed_mail())
            seeder.stats.update(seed_publishing())
            seeder.stats["submissions_created"] += seed_submissions()
            seeder.stats.update(seed_basedata())
            seeder.stats["esupervision_items_created"] += seed_esupervision()
            seeder.stats["city_cases_created"] += seed_city_cases()
            seeder.stats["duty_assignments_created"] += seed_duty()
            seeder.stats.update(seed_video())
            if options["backfill"]:
                seeder.stats.update(seed_backfill())
            changes = {key: value for key, value in sorted(seeder.stats.items()) if value}
            if changes:
                record(
                    "demo.seeded",
                    actor_username="seed_demo",
                    object_type="accounts.unit",
                    object_id=seeder.units[demo_city.ROOT_CODE].pk,
                    unit_id=seeder.units[demo_city.ROOT_CODE].pk,
                    detail={"scale": options["scale"], **changes},
                )
        elapsed = time.monotonic() - started
        self._report(changes, options["scale"], elapsed)

    def _report(self, changes: dict[str, int], scale: str, elapsed: float) -> None:
        write = self.stdout.write
        summary = ", ".join(f"{k}={v}" for k, v in changes.items()) or "nothing to change"
        write(f"Demo city 新城市 (scale={scale}): {summary} in {elapsed:.1f}s.")
        write(f"Totals: {Unit.objects.count()} units, {User.objects.count()} users.")
        write(
            f"Demo accounts, all with the password {settings.GOVDESK_DEMO_PASSWORD!r} "
            "(GOVDESK_DEMO_PASSWORD; docs/demo.md):"
        )
        units = {
            u.code: u
            for u in Unit.objects.filter(code__in={a.unit for a in demo_city.DEMO_ACCOUNTS})
        }
        for spec in demo_city.DEMO_ACCOUNTS:
            roles = "+".join(role for role, _ in spec.roles)
            unit = units[spec.unit]
            write(
                f"  {spec.username:<13} {spec.display_name}  {unit.short_name or unit.name}"
                f" · {spec.title} · {roles}"
            )
        secret = demo_city.DEMO_TOTP_SECRET
        write(
            f"{' and '.join(demo_city.TOTP_ACCOUNTS)} need a one-time code (DEMO-ONLY secret): "
            f"python -c \"import pyotp; print(pyotp.TOTP('{secret}').now())\""
        )
