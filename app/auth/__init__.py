"""Authentication: passwords, tokens, API keys and the actor behind a request."""
