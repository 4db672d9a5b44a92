"""The Storage port (bytes by key) and its adapters; uploads are spooled, checked, then stored."""
