"""Root field ``health``."""

from __future__ import annotations

import strawberry

from app import __version__
from app.migrations import migration_state
from app.schema.context import Info
from app.schema.types.health import Health


@strawberry.type
class HealthQuery:
    @strawberry.field(description="The service's version and database state.")
    async def health(self, info: Info) -> Health:
        runtime = info.context.runtime
        state = await migration_state(runtime.engine)
        return Health(
            version=__version__,
            database=runtime.engine.dialect.name,
            migrations_at_head=state.at_head,
        )
