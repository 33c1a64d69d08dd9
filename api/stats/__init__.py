"""Statistics and unit efficiency scores (效能统计).

Docs: docs/supervision.md.
"""
