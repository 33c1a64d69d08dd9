"""Official documents (公文): drafts, versions, attachments, numbering. Docs: docs/documents.md."""
