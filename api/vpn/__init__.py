"""VPN access (远程接入): device enrolment, approval, the gateway's peer list.

Docs: docs/vpn.md.
"""
