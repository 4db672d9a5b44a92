"""Media: what a file really is (magic bytes), and what is inside it (probing)."""
