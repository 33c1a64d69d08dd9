"""Deadline urging (催办): automatic and manual urges with frequency caps.

Docs: docs/urging.md.
"""
