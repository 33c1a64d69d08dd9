"""The emergency command connector (应急指挥). Docs: docs/integrations.md#emergency."""
