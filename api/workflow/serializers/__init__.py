"""HTTP surface of the app, one module per API surface (docs/architecture.md#layers)."""
