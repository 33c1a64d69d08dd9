"""The digital city management connector (数字城管). Docs: docs/integrations.md#city-management."""
