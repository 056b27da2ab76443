"""Optional external model providers (off by default; enabled by environment variables)."""
