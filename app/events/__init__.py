"""The EventHub port: hints that a stream has new stored events (in-process, Redis, PostgreSQL)."""
