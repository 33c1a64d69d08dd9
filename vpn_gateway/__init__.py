"""VPN gateway: network zones, WireGuard peers, gateway agent. Docs: docs/network-zones.md."""
