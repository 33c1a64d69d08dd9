"""The e-supervision connector (电子监察). Docs: docs/integrations.md#e-supervision."""
