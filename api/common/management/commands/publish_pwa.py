"""Copies the built PWA into ``STATIC_ROOT/app`` for nginx.

Docs: docs/pwa.md#build-serving-and-caching.

The docker deployment's nginx serves the app from the ``static`` volume (the demo's
WhiteNoise serves ``GOVDESK_PWA_DIST`` itself and needs no copy). The new release is
written beside the old one and swapped in by renames, so nginx never serves half a
release; the previous release's ``assets/`` are kept in the new one, because a phone
still running the old app shell may yet ask for its lazy-loaded chunks.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

APP_DIR_NAME = "app"


def publish(dist: Path, static_root: Path) -> Path:
    """Installs ``dist`` as ``static_root/app`` and returns that path."""
    if not (dist / "index.html").is_file():
        raise CommandError(f"no PWA build at {dist} (run `make pwa`)")
    target = static_root / APP_DIR_NAME
    fresh = static_root / f".{APP_DIR_NAME}.new"
    stale = static_root / f".{APP_DIR_NAME}.old"
    for leftover in (fresh, stale):  # from an interrupted earlier run
        shutil.rmtree(leftover, ignore_errors=True)
    static_root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(dist, fresh)
    previous_assets = target / "assets"
    if previous_assets.is_dir():
        for old in previous_assets.iterdir():
            keep = fresh / "assets" / old.name
            if old.is_file() and not keep.exists():
                shutil.copy2(old, keep)
    if target.exists():
        target.rename(stale)
    fresh.rename(target)
    shutil.rmtree(stale, ignore_errors=True)
    return target


class Command(BaseCommand):
    help = "Copy the built PWA (GOVDESK_PWA_DIST) into STATIC_ROOT/app for nginx."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-built",
            action="store_true",
            help="do nothing (and succeed) when there is no build, e.g. an API-only image",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dist = Path(settings.GOVDESK_PWA_DIST)
        if options["if_built"] and not (dist / "index.html").is_file():
            self.stdout.write(f"no PWA build at {dist}: nothing published")
            return
        target = publish(dist, Path(settings.STATIC_ROOT))
        self.stdout.write(f"PWA published to {target}")
