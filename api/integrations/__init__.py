"""The connector layer. Docs: docs/integrations.md."""
