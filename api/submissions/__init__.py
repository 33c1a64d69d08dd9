"""Information submission and e-journals (信息报送). Docs: docs/submissions.md."""
