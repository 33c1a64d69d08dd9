"""``python -m notifications.fakes``: the provider fakes for the demo
(docs/notifications.md#demo-fakes).

    python -m notifications.fakes init  --dir var/fakes --port 8025
    python -m notifications.fakes serve --dir var/fakes --port 8025 [--smpp-port 8026]

``init`` writes (or re-points at the port) the credentials the fakes check: the FCM
service-account JSON, the SMS keys, a VAPID key pair and the SMSC account
(``smpp.json``); it prints the files and URLs as JSON. ``serve`` runs init, then serves
every fake on 127.0.0.1:<port> until SIGTERM/Ctrl-C, logging one line per accepted
message; ``GET /_received`` lists them. With ``--smpp-port`` it also runs the fake SMS
centre (SMPP 3.4, notifications/fakes/smsc.py) on 127.0.0.1:<smpp-port>; the SMS it
reassembles are logged and listed as service ``smsc``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from notifications.fakes.gateways import FakeGateways, init_directory
from notifications.fakes.server import make_server
from notifications.fakes.smsc import FakeSmsc

SMPP_FILE = "smpp.json"


def smpp_account(directory: Path) -> dict[str, str]:
    """The fake SMSC's account (kept between runs): system_id and an 8-character
    password (SMPP 3.4's limit)."""
    path = directory / SMPP_FILE
    if path.exists():
        return json.loads(path.read_text("utf-8"))
    account = {"system_id": "govdesk", "password": secrets.token_hex(4)}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(account, out)
    return account


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
    if service == "smsc":
        coding = "UCS-2" if line.get("data_coding") == 8 else "default alphabet"
        return (
            f"smsc → {line['recipient']}: {line.get('text', '')!r} "
            f"({line.get('parts')} part(s), {coding}, ids {','.join(line.get('message_ids', []))})"
        )
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
        p.add_argument("--smpp-port", type=int, default=0, help="the fake SMSC's port (0: none)")
    args = parser.parse_args(argv)
    base = _base_url(args.port)
    creds = init_directory(args.dir, base)
    account = smpp_account(args.dir)
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
    smsc = None
    if args.smpp_port:
        smsc = FakeSmsc(account["system_id"], account["password"], journal=gateways.journal)
        smsc.start(args.smpp_port)
        _say(f"fake SMSC (SMPP 3.4) listening on 127.0.0.1:{smsc.port} as {account['system_id']}")
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
    if smsc is not None:
        smsc.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
