"""HTTP layer of the documents API (thin views). Docs: docs/documents.md#endpoints."""
