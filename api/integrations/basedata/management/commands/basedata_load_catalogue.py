"""``manage.py basedata_load_catalogue FILE``: apply catalogue entries from a JSON file.

Docs: docs/integrations.md#base-data. For a base-data platform without a catalogue
API: the entries (a JSON list, each in the platform contract's entry shape) are
applied exactly as pulled ones are; a file can be loaded again safely (an entry whose
version is not newer changes nothing). Stops at the first invalid entry, naming it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from api.audit.recorder import record
from api.integrations.basedata.catalogue import InvalidEntry, apply_entry


class Command(BaseCommand):
    help = "Apply base-data catalogue entries from a JSON file (a list of entries)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            entries = json.loads(options["file"].read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {options['file']}: {exc}") from None
        if not isinstance(entries, list):
            raise CommandError("the file must hold a JSON list of catalogue entries")
        applied = []
        for index, entry in enumerate(entries):
            try:
                dataset = apply_entry(entry)
            except InvalidEntry as exc:
                raise CommandError(f"entry {index}: {exc}") from None
            applied.append(dataset.source_id)
        record(
            "basedata.catalogue_loaded",
            actor_username="basedata_load_catalogue",
            detail={"file": str(options["file"]), "datasets": applied[:100]},
        )
        self.stdout.write(f"{len(applied)} entries applied")
