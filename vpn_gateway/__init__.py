"""VPN gateway: network zones, WireGuard peers, gateway agent. Docs: docs/network-zones.md.

Plain Python: never imports Django or ``api`` (ruff's banned-api rule in ruff.toml).
"""
