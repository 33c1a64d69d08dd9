"""Notification channels and the delivery ladder, plain Python (issue 5)."""
