"""``python -m vpn_gateway agent …`` (the gateway agent) and ``keygen``.

Docs: docs/vpn.md#the-gateway-agent.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from vpn_gateway.agent import Agent, AgentError, read_credential
from vpn_gateway.keys import generate_key_pair


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vpn_gateway")
    commands = parser.add_subparsers(dest="command", required=True)
    agent = commands.add_parser("agent", help="keep a WireGuard interface's peers in sync")
    agent.add_argument("--api", required=True, help="https://govdesk.example.gov.cn")
    agent.add_argument("--credential-file", required=True, type=Path)
    agent.add_argument("--interface", required=True, help="e.g. wg0")
    agent.add_argument("--interval", type=float, default=30.0, help="seconds (default 30)")
    agent.add_argument(
        "--state-dir", type=Path, default=Path("/var/lib/govdesk-vpn-agent"),
        help="where the last good peer list is kept",
    )  # fmt: skip
    agent.add_argument("--ca-file", help="CA bundle for the API's certificate")
    agent.add_argument(
        "--insecure-loopback", action="store_true",
        help="allow http:// to 127.0.0.1/::1 (tests and the demo only)",
    )  # fmt: skip
    agent.add_argument("--once", action="store_true", help="one sync and report, then exit")
    agent.add_argument("--wg", default="wg", help="the wg binary")
    commands.add_parser("keygen", help="print a private and a public key")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "keygen":
        private, public = generate_key_pair()
        sys.stdout.write(f"{private}\n{public}\n")
        return 0
    if args.interval < 1:
        sys.stderr.write("--interval must be at least 1 second\n")
        return 2
    try:
        agent = Agent(
            api=args.api,
            credential=read_credential(args.credential_file),
            interface=args.interface,
            state_dir=args.state_dir,
            interval=args.interval,
            ca_file=args.ca_file,
            insecure_loopback=args.insecure_loopback,
            wg=args.wg,
        )
    except (AgentError, OSError) as exc:
        sys.stderr.write(f"vpn agent: {exc}\n")
        return 2
    if args.once:
        return 0 if agent.run_once() else 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    agent.run(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
