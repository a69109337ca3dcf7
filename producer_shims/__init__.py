"""producer_shims package."""
