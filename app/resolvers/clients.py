"""Mutations on clients."""

from __future__ import annotations

import strawberry

from app.ids import expect_global_id
from app.schema.changes import as_plain, given
from app.schema.context import Info
from app.schema.extensions import mutation
from app.schema.types.client import ClientType
from app.services import clients


@strawberry.input(description="Brand rules prompts must follow.")
class BrandGuidelinesInput:
    colors: list[str] = strawberry.field(default_factory=list)
    fonts: list[str] = strawberry.field(default_factory=list)
    tone: str | None = None
    restrictions: list[str] = strawberry.field(default_factory=list)
    examples: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class CreateClientInput:
    workspace_id: strawberry.ID
    name: str = strawberry.field(description="1-100 characters.")
    description: str | None = strawberry.field(default=None, description="At most 500 characters.")
    brand_guidelines: BrandGuidelinesInput | None = None


@strawberry.type
class CreateClientPayload:
    client: ClientType


@strawberry.input(description="Only the fields you give change; null clears an optional one.")
class UpdateClientInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    brand_guidelines: BrandGuidelinesInput | None = strawberry.UNSET


@strawberry.type
class UpdateClientPayload:
    client: ClientType


@strawberry.input
class DeleteClientInput:
    id: strawberry.ID


@strawberry.type
class DeleteClientPayload:
    deleted_client_id: strawberry.ID


@strawberry.type
class ClientMutation:
    @mutation(description="Create a client (EDITOR).")
    async def create_client(
        self, info: Info, input: CreateClientInput
    ) -> CreateClientPayload | None:
        ctx = info.context
        client = await clients.create_client(
            ctx.session,
            ctx.actor,
            workspace_id=expect_global_id(input.workspace_id, "Workspace", field="workspaceId"),
            name=input.name,
            description=input.description,
            brand_guidelines=as_plain(input.brand_guidelines),
        )
        return CreateClientPayload(client=ClientType.from_model(client))

    @mutation(description="Change some of a client's fields (EDITOR).")
    async def update_client(
        self, info: Info, input: UpdateClientInput
    ) -> UpdateClientPayload | None:
        ctx = info.context
        client = await clients.update_client(
            ctx.session,
            ctx.actor,
            client_id=expect_global_id(input.id, "Client"),
            changes=given(input, "name", "description", "brand_guidelines"),
        )
        return UpdateClientPayload(client=ClientType.from_model(client))

    @mutation(description="Delete a client, its campaigns and jobs (ADMIN).")
    async def delete_client(
        self, info: Info, input: DeleteClientInput
    ) -> DeleteClientPayload | None:
        ctx = info.context
        await clients.delete_client(
            ctx.session, ctx.actor, client_id=expect_global_id(input.id, "Client")
        )
        return DeleteClientPayload(deleted_client_id=input.id)
