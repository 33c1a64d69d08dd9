"""``manage.py bootstrap_city``: the root unit and the first city IT admin of a new
deployment (docs/operations.md#first-start). The password is read from the
environment variable GOVDESK_BOOTSTRAP_PASSWORD or asked for on the terminal; it is
never taken from the command line (it would show in the process list and history).
"""

from __future__ import annotations

import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from api.accounts.actions.bootstrap import AlreadyBootstrapped, bootstrap_city


class Command(BaseCommand):
    help = "Create the root unit and the first city IT admin (once)."

    def add_arguments(self, parser):
        parser.add_argument("--unit-name", required=True, help="e.g. 新城市人民政府")
        parser.add_argument("--unit-code", required=True, help="a short unique code, e.g. XC")
        parser.add_argument("--username", required=True)
        parser.add_argument("--display-name", required=True)

    def handle(self, *args, **options):
        password = os.environ.get("GOVDESK_BOOTSTRAP_PASSWORD")
        if not password:
            if not os.isatty(0):
                raise CommandError("set GOVDESK_BOOTSTRAP_PASSWORD or run on a terminal")
            password = getpass.getpass("Password for the city IT admin: ")
            if password != getpass.getpass("Again: "):
                raise CommandError("the passwords differ")
        try:
            unit, user = bootstrap_city(
                unit_name=options["unit_name"],
                unit_code=options["unit_code"],
                username=options["username"],
                display_name=options["display_name"],
                password=password,
            )
        except AlreadyBootstrapped as exc:
            raise CommandError(f"refused: {exc}") from exc
        except ValidationError as exc:
            raise CommandError("password refused: " + " ".join(exc.messages)) from exc
        self.stdout.write(
            f"Created unit {unit.name} ({unit.code}) and city IT admin {user.username}. "
            "Their role requires TOTP: they set it up at first sign-in."
        )
