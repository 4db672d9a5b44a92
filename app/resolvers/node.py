"""Root fields ``node``, ``nodes`` and ``viewer``."""

from __future__ import annotations

import asyncio

import strawberry

from app.errors import BadUserInputError, NotFoundError
from app.schema.context import Info
from app.schema.nodes import resolve_node, resolve_node_or_error
from app.schema.types.common import Node
from app.schema.types.member import UserType

MAX_NODES = 100


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Fetch any object by its global ID (NOT_FOUND if invisible).")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(
        description="Fetch up to 100 objects; each missing one is null with an error."
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise BadUserInputError(
                f"At most {MAX_NODES} IDs at once.", fields={"ids": f"at most {MAX_NODES}"}
            )
        found = await asyncio.gather(*(resolve_node_or_error(info, i) for i in ids))
        return list(found)  # type: ignore[arg-type]  # errors become per-item GraphQL errors

    @strawberry.field(description="The signed-in user; null without credentials.")
    async def viewer(self, info: Info) -> UserType | None:
        actor = info.context.maybe_actor
        if actor is None:
            return None
        row = await info.context.loaders.user.load(actor.user_id)
        if row is None:
            raise NotFoundError("User not found.")
        return UserType.from_model(row)
