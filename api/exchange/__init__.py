"""Document exchange between units (公文交换): dispatch, sign-for, recall.

Docs: docs/exchange.md.
"""
