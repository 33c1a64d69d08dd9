"""``python -m cityfakes serve --port P``: every city fake on one loopback port.

Docs: docs/integrations.md#fakes. Each entry of ``FAKES`` is (name, "module:factory");
the fake is served under ``/<name>/`` and its factory is called with a
``FakeContext`` (the connector's name, its secret, GovDesk's URL). Secrets come from
``--secrets FILE`` (JSON ``{"<name>": "<secret>"}``, written by the demo under var/), or
``CITYFAKES_SECRET_<NAME>``. A connector helper adds its one line to ``FAKES``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cityfakes.server import FakeContext, Handler, Router, base_url, make_server

# (name, "module:factory") — the factory takes a FakeContext and returns a Handler.
FAKES: list[tuple[str, str]] = [
    ("basedata", "cityfakes.basedata:make"),
    ("esupervision", "cityfakes.esupervision:make"),
    ("citymgmt", "cityfakes.citymgmt:make"),
    ("emergency", "cityfakes.emergency:make"),
    ("video", "cityfakes.video:make"),  # docs/integrations.md#video
]


def load(name: str, target: str, context: FakeContext) -> Handler:
    module_name, _, attribute = target.partition(":")
    factory: Any = getattr(importlib.import_module(module_name), attribute or "make")
    return factory(context)


def secrets_from(path: str | None) -> dict[str, str]:
    found: dict[str, str] = {}
    if path:
        found.update(json.loads(Path(path).read_text("utf-8")))
    for name, _ in FAKES:
        value = os.environ.get(f"CITYFAKES_SECRET_{name.upper()}")
        if value:
            found[name] = value
    return found


def build(secrets: dict[str, str], govdesk_url: str = "") -> Router:
    return Router(
        {
            name: load(name, target, FakeContext(name, secrets.get(name, ""), govdesk_url))
            for name, target in FAKES
        }
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cityfakes")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve every fake on one loopback port")
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--secrets", help='JSON file {"<name>": "<secret>"}')
    serve.add_argument("--govdesk-url", default="", help="GovDesk's base URL (webhooks)")
    serve.add_argument("--list", action="store_true", help="print the fakes and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, target in FAKES:
            sys.stdout.write(f"{name}\t{target}\n")
        return 0
    router = build(secrets_from(args.secrets), args.govdesk_url)
    server = make_server(router, args.host, args.port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    names = ", ".join(f"/{name}/" for name, _ in FAKES) or "none yet"
    sys.stdout.write(f"city fakes on {base_url(server)}: {names}\n")
    sys.stdout.flush()
    try:
        server.serve_forever(0.2)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
