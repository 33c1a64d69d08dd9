"""VPN gateway: network zones, WireGuard keys, pool, configs, the peer list and the
gateway agent. Docs: docs/vpn.md and docs/network-zones.md.

Plain Python: never imports Django or ``api`` (ruff's banned-api rule in ruff.toml).
"""
