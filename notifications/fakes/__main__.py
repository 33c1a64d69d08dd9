"""``python -m notifications.fakes``: the provider fakes for the demo
(docs/notifications.md#demo-fakes).

    python -m notifications.fakes init  --dir var/fakes --port 8025
    python -m notifications.fakes serve --dir var/fakes --port 8025

``init`` writes (or re-points at the port) the credentials the fakes check: the FCM
service-account JSON, the SMS keys and a VAPID key pair; it prints the files and URLs
as JSON. ``serve`` runs init, then serves every fake on 127.0.0.1:<port> until
SIGTERM/Ctrl-C, logging one line per accepted message; ``GET /_received`` lists them.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from notifications.fakes.gateways import FakeGateways, init_directory
from notifications.fakes.server import make_server


def _base_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/"


def _summary(line: dict[str, Any]) -> str:
    service = line["service"]
    if service == "webpush":
        payload = line.get("payload") or {}
        title = payload.get("title", "") if isinstance(payload, dict) else ""
        return f"webpush → subscription {line['recipient']}: {title}"
    if service == "fcm":
        return f"fcm → token {line['recipient'][:24]}: {line.get('title', '')}"
    if service.endswith("_sms"):
        return (
            f"{service} → {line['recipient']} template {line.get('template')} {line.get('params')}"
        )
    return f"{service} → {line.get('recipient', '')}"


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notifications.fakes")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("init", "serve"):
        p = sub.add_parser(name)
        p.add_argument("--dir", type=Path, required=True, help="where the credentials live")
        p.add_argument("--port", type=int, required=True, help="loopback port")
    args = parser.parse_args(argv)
    base = _base_url(args.port)
    creds = init_directory(args.dir, base)
    if args.command == "init":
        _say(json.dumps({"dir": str(args.dir.resolve()), "urls": creds.urls(base)}, indent=2))
        return 0

    gateways = FakeGateways(creds)
    server, fake = make_server(gateways, port=args.port)
    gateways.mount(fake.url)
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    _say(f"fakes listening on {fake.url} (received: {fake.url}_received)")
    seen = 0
    while True:
        stopping = stop.wait(0.2)
        for line in gateways.journal.since(seen):
            seen = line["seq"]
            _say(_summary(line))
        if stopping:
            break
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
