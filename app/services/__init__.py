"""Business rules, framework-free. Signature: ``(session, actor, *, ...)``; they flush, never commit."""
