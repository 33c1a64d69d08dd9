"""Notifications (通知): in-app list, outbox, devices, delivery ladder, live channel.

Docs: docs/notifications.md.
"""
