"""Supervision (督办): owners, milestones, traffic lights, escalation.

Docs: docs/supervision.md.
"""
