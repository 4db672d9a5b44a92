"""Every ``Node`` type of the schema can be fetched again by its ID, through ``node`` and
``nodes``, and only by callers who may see it (others get NOT_FOUND, as for a missing ID).

The types come from the schema itself: a new ``Node`` type without a way to make one here (and
without refetch support) fails :func:`test_every_node_type_has_a_maker`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from graphql import GraphQLInterfaceType
from sqlalchemy.ext.asyncio import AsyncSession

from app.ids import decode_global_id, encode_global_id
from app.models import Asset, Generation, Job, Scene
from app.models.enums import AssetKind, AssetStatus, GenerationKind
from app.schema import build_schema
from tests.graphql import Account, create_campaign, create_client, invite

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"


def node_type_names() -> list[str]:
    """The object types that implement ``Node``, as the schema answers them."""
    schema = build_schema()._schema
    node = schema.get_type("Node")
    assert isinstance(node, GraphQLInterfaceType)
    return sorted(t.name for t in schema.get_implementations(node).objects)


@dataclass
class World:
    owner: Account
    db: AsyncSession

    @property
    def workspace(self) -> uuid.UUID:
        return decode_global_id(self.owner.workspace_id).id

    async def client(self) -> uuid.UUID:
        return decode_global_id(await create_client(self.owner.gql, self.owner.workspace_id)).id

    async def job(self) -> Job:
        job = Job(
            workspace_id=self.workspace,
            client_id=await self.client(),
            product="Fizz",
            target_audience="Teens",
            key_message="Cold",
            call_to_action="Buy",
            style="Modern",
        )
        self.db.add(job)
        await self.db.commit()
        return job

    async def add(self, row: Asset | Generation | Scene, type_name: str) -> str:
        self.db.add(row)
        await self.db.commit()
        return encode_global_id(type_name, row.id)


Maker = Callable[[World], Awaitable[str]]


async def _workspace(world: World) -> str:
    return world.owner.workspace_id


async def _client(world: World) -> str:
    return await create_client(world.owner.gql, world.owner.workspace_id)


async def _campaign(world: World) -> str:
    return await create_campaign(world.owner.gql, await _client(world))


async def _membership(world: World) -> str:
    viewer = (await world.owner.gql("{ viewer { memberships { id } } }")).ok()["viewer"]
    return str(viewer["memberships"][0]["id"])


async def _invitation(world: World) -> str:
    return await invite(world.owner, f"{uuid.uuid4().hex}@example.com", "EDITOR")


async def _user(world: World) -> str:
    return world.owner.user_id


async def _api_key(world: World) -> str:
    result = await world.owner.gql(
        "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } } }",
        {"i": {"name": "ci"}},
    )
    return str(result.ok()["createApiKey"]["apiKey"]["id"])


def _asset(kind: AssetKind) -> Maker:
    async def make(world: World) -> str:
        row = Asset(workspace_id=world.workspace, kind=kind, name="a", status=AssetStatus.READY)
        return await world.add(row, "Asset")

    return make


async def _generation(world: World) -> str:
    row = Generation(
        workspace_id=world.workspace, kind=GenerationKind.IMAGE, model="m", provider="local"
    )
    return await world.add(row, "Generation")


async def _job(world: World) -> str:
    return encode_global_id("Job", (await world.job()).id)


async def _scene(world: World) -> str:
    job = await world.job()
    row = Scene(job_id=job.id, number=1, description="d", image_prompt="p", duration_seconds=5)
    return await world.add(row, "Scene")


MAKERS: dict[str, Maker] = {
    "Workspace": _workspace,
    "Client": _client,
    "Campaign": _campaign,
    "Membership": _membership,
    "Invitation": _invitation,
    "User": _user,
    "ApiKey": _api_key,
    "ImageAsset": _asset(AssetKind.IMAGE),
    "VideoAsset": _asset(AssetKind.VIDEO),
    "AudioAsset": _asset(AssetKind.AUDIO),
    "DocumentAsset": _asset(AssetKind.DOCUMENT),
    "Generation": _generation,
    "Job": _job,
    "Scene": _scene,
}


def test_every_node_type_has_a_maker() -> None:
    assert sorted(MAKERS) == node_type_names()


@pytest.mark.parametrize("type_name", node_type_names())
class TestRefetch:
    async def test_node_answers_the_object(
        self, owner: Account, db: AsyncSession, type_name: str
    ) -> None:
        node_id = await MAKERS[type_name](World(owner, db))
        result = await owner.gql(NODE, {"id": node_id})
        assert result.ok() == {"node": {"__typename": type_name, "id": node_id}}

    async def test_nodes_answers_it_too(
        self, owner: Account, db: AsyncSession, type_name: str
    ) -> None:
        node_id = await MAKERS[type_name](World(owner, db))
        result = await owner.gql(NODES, {"ids": [node_id, node_id]})
        found = {"__typename": type_name, "id": node_id}
        assert result.ok() == {"nodes": [found, found]}

    async def test_another_workspace_gets_not_found_as_for_a_missing_id(
        self, owner: Account, stranger: Account, db: AsyncSession, type_name: str
    ) -> None:
        node_id = await MAKERS[type_name](World(owner, db))
        missing = encode_global_id(decode_global_id(node_id).type_name, uuid.uuid4())
        hidden = await stranger.gql(NODE, {"id": node_id})
        absent = await stranger.gql(NODE, {"id": missing})
        assert hidden.data == {"node": None}
        assert hidden.code == "NOT_FOUND"
        assert hidden.errors[0]["message"] == absent.errors[0]["message"]
        listed = await stranger.gql(NODES, {"ids": [node_id]})
        assert listed.data == {"nodes": [None]}
        assert listed.codes == ["NOT_FOUND"]
