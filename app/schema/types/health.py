"""The ``Health`` type: what a client can learn about the service without signing in."""

from __future__ import annotations

import strawberry


@strawberry.type(description="The service's own view of its health.")
class Health:
    version: str = strawberry.field(description="The server's version.")
    database: str = strawberry.field(description="The database dialect in use.")
    migrations_at_head: bool = strawberry.field(
        description="Whether the database schema is at the latest migration."
    )
