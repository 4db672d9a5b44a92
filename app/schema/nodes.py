"""Resolving global IDs to objects, through the same tenancy-filtered loaders as every read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from app.errors import AppError, NotFoundError
from app.ids import decode_global_id
from app.loaders import Loaders
from app.schema.context import Info
from app.schema.types.api_key import ApiKeyType
from app.schema.types.asset import asset_from_model
from app.schema.types.campaign import CampaignType
from app.schema.types.client import ClientType
from app.schema.types.common import Node
from app.schema.types.generation import GenerationType
from app.schema.types.invitation import InvitationType
from app.schema.types.job import JobType, SceneType
from app.schema.types.member import MembershipType, UserType
from app.schema.types.workspace import WorkspaceType

Fetch = Callable[[Loaders, Any], Awaitable[Any]]

NODE_TYPES: dict[str, tuple[Fetch, Callable[[Any], Node]]] = {
    "Workspace": (lambda loaders, pk: loaders.workspace.load(pk), WorkspaceType.from_model),
    "Client": (lambda loaders, pk: loaders.client.load(pk), ClientType.from_model),
    "Campaign": (lambda loaders, pk: loaders.campaign.load(pk), CampaignType.from_model),
    "Membership": (lambda loaders, pk: loaders.membership.load(pk), MembershipType.from_model),
    "Invitation": (lambda loaders, pk: loaders.invitation.load(pk), InvitationType.from_model),
    "User": (lambda loaders, pk: loaders.user.load(pk), UserType.from_model),
    "ApiKey": (lambda loaders, pk: loaders.api_key.load(pk), ApiKeyType.from_model),
    "Asset": (lambda loaders, pk: loaders.asset.load(pk), asset_from_model),
    "Generation": (lambda loaders, pk: loaders.generation.load(pk), GenerationType.from_model),
    "Job": (lambda loaders, pk: loaders.job.load(pk), JobType.from_model),
    "Scene": (lambda loaders, pk: loaders.scene.load(pk), SceneType.from_model),
}


async def resolve_node(info: Info, global_id: str) -> Node:
    """The object, or NOT_FOUND: an object in another workspace does not exist for you."""
    decoded = decode_global_id(global_id)
    entry = NODE_TYPES.get(decoded.type_name)
    if entry is None:
        raise NotFoundError("Object not found.")
    fetch, to_node = entry
    row = await fetch(info.context.loaders, decoded.id)
    if row is None:
        raise NotFoundError(f"{decoded.type_name} not found.")
    return to_node(row)


async def resolve_node_or_error(info: Info, global_id: str) -> Node | AppError:
    try:
        return await resolve_node(info, global_id)
    except AppError as error:
        return error
