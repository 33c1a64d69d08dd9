"""Accountability (问责): cases a supervisor opens about a unit from a red-light
supervised item, an overdue document or a statistic. Docs: docs/accountability.md.
"""
