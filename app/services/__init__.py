"""Business rules, framework-free.

Signature: ``(session, actor, *, ...)``. Services flush, never commit.
"""
