"""``python -m api.meetings.janus write|serve``: Janus's configuration from the
environment, for the container and native deployments. Docs: docs/meetings.md#deployment.

Plain Python (no Django). ``write --dir D`` writes the configuration into D; ``serve``
writes it into ``$GOVDESK_JANUS_CONFIG_DIR`` (default /tmp/janus) and replaces itself
with Janus in the foreground. Variables: GOVDESK_JANUS_ADMIN_SECRET,
GOVDESK_JANUS_ROOM_ADMIN_KEY, GOVDESK_JANUS_EVENT_PASSWORD (required);
GOVDESK_JANUS_EVENT_URL (default http://web:8000/api/v1/meetings/janus-events/),
GOVDESK_JANUS_BIND (0.0.0.0), GOVDESK_JANUS_RTP_PORTS (20000-20199),
GOVDESK_JANUS_PUBLIC_IP (nat_1_1_mapping), GOVDESK_JANUS_STUN_SERVER,
GOVDESK_JANUS_ICE_ENFORCE_LIST.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from api.meetings.janus.config import JanusConfig, binary

REQUIRED = (
    "GOVDESK_JANUS_ADMIN_SECRET",
    "GOVDESK_JANUS_ROOM_ADMIN_KEY",
    "GOVDESK_JANUS_EVENT_PASSWORD",
)


def from_environment(env: Mapping[str, str]) -> JanusConfig:
    missing = [name for name in REQUIRED if not env.get(name)]
    if missing:
        raise SystemExit(f"janus: set {', '.join(missing)} (docs/meetings.md#settings)")
    bind = env.get("GOVDESK_JANUS_BIND", "0.0.0.0")  # noqa: S104 - inside its own network
    return JanusConfig(
        admin_secret=env["GOVDESK_JANUS_ADMIN_SECRET"],
        room_admin_key=env["GOVDESK_JANUS_ROOM_ADMIN_KEY"],
        event_password=env["GOVDESK_JANUS_EVENT_PASSWORD"],
        event_url=env.get(
            "GOVDESK_JANUS_EVENT_URL", "http://web:8000/api/v1/meetings/janus-events/"
        ),
        bind_host=bind,
        admin_host=bind,
        rtp_port_range=env.get("GOVDESK_JANUS_RTP_PORTS", "20000-20199"),
        nat_1_1_mapping=env.get("GOVDESK_JANUS_PUBLIC_IP", ""),
        stun_server=env.get("GOVDESK_JANUS_STUN_SERVER", ""),
        ice_enforce_list=env.get("GOVDESK_JANUS_ICE_ENFORCE_LIST", ""),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.meetings.janus")
    sub = parser.add_subparsers(dest="command", required=True)
    write = sub.add_parser("write", help="write the configuration into --dir")
    write.add_argument("--dir", required=True, type=Path)
    sub.add_parser("serve", help="write the configuration and run Janus in the foreground")
    args = parser.parse_args(argv)
    config = from_environment(os.environ)
    if args.command == "write":
        sys.stdout.write(f"{config.write(args.dir)}\n")
        return 0
    folder = Path(os.environ.get("GOVDESK_JANUS_CONFIG_DIR", "/tmp/janus"))  # noqa: S108
    config.write(folder)
    executable = binary()
    if executable is None:
        raise SystemExit("janus: the janus binary is not installed (apt-get install janus)")
    command = config.command(folder, executable)
    os.execv(executable, command)  # noqa: S606 - Janus replaces this process
    return 0  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
