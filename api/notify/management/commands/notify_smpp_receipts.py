"""``manage.py notify_smpp_receipts``: the long-running SMS delivery-receipt receiver.

Docs: docs/notifications.md#delivery-receipts. Binds to the SMSC as a receiver (or
transceiver, GOVDESK_NOTIFY_SMPP_RECEIPTS_BIND) with the account the sender uses,
stores each ``deliver_sm`` receipt (api/notify/receipts.record_receipt) and only then
acknowledges it, so a receipt that could not be stored is sent again by the SMSC.
Reconnects with backoff, sends ``enquire_link`` when idle, stops on SIGTERM/SIGINT.
Run one per deployment beside the Celery worker (the demo launcher and the compose
file start it); it needs no internet, only the private line to the SMSC.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Literal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connection

from api.notify import registry
from api.notify.receipts import record_receipt
from notifications.channels.sms_smpp import Receipt, SmppReceiptListener


class Command(BaseCommand):
    help = "Receive SMS delivery receipts from the SMSC over SMPP (runs until stopped)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--seconds", type=float, default=0, help="stop after this long (0 = run until stopped)"
        )
        parser.add_argument(
            "--heartbeat-file",
            default=os.environ.get("GOVDESK_SMPP_RECEIPTS_HEARTBEAT", ""),
            help="touched on every loop, for a container health check",
        )

    def handle(self, *args, **options) -> None:
        if settings.GOVDESK_NOTIFY_SMS_PROVIDER != "smpp" or not settings.GOVDESK_NOTIFY_SMPP_HOST:
            raise CommandError("SMS over SMPP is not configured (GOVDESK_NOTIFY_SMS_PROVIDER=smpp)")
        stop = threading.Event()

        def _stop(signum: int, _frame: object) -> None:
            stop.set()

        previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        transceiver = settings.GOVDESK_NOTIFY_SMPP_RECEIPTS_BIND == "transceiver"
        bind: Literal["receiver", "transceiver"] = "transceiver" if transceiver else "receiver"
        listener = SmppReceiptListener(**registry.smpp_options(), bind=bind)
        ends = time.monotonic() + options["seconds"] if options["seconds"] else None
        opts = registry.smpp_options()
        self.stdout.write(f"receiving SMS receipts from {opts['host']}:{opts['port']} as {bind}")
        self.stdout.flush()

        def handle(receipt: Receipt) -> None:
            delivery = record_receipt(receipt)
            self.stdout.write(
                f"receipt {receipt.message_id} {receipt.stat or '?'}"
                + (f" → delivery {delivery}" if delivery else "")
            )
            self.stdout.flush()

        last_error = ""
        try:
            while not stop.is_set() and (ends is None or time.monotonic() < ends):
                if options["heartbeat_file"]:
                    Path(options["heartbeat_file"]).touch()
                if not connection.in_atomic_block:
                    close_old_connections()  # a long-running process: drop stale connections
                listener.poll(handle, wait=1.0)
                if listener.last_error != last_error:
                    last_error = listener.last_error
                    if last_error:
                        self.stderr.write(f"SMSC: {last_error} (reconnecting with backoff)")
        finally:
            listener.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
