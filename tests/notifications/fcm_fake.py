"""Moved to ``notifications.fakes.fcm``; this re-export keeps older imports working.
Docs: docs/notifications.md#demo-fakes."""

from notifications.fakes.fcm import ACCESS_TOKEN, PROJECT, FcmFake, fcm_error

__all__ = ["ACCESS_TOKEN", "PROJECT", "FcmFake", "fcm_error"]
