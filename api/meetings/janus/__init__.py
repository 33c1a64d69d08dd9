"""Janus WebRTC Server glue: its configuration, its HTTP API and its events.

Docs: docs/meetings.md. ``config`` and ``client`` are plain Python (no Django), so the
demo launcher and the tests can write a configuration and start Janus without settings.
"""
