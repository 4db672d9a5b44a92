"""Non-GraphQL HTTP routes."""
