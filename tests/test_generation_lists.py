"""Generations lead back to their client, campaign, job and scene, and lists filter by model."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.ids import decode_global_id, encode_global_id
from app.models import Generation, Job, Scene
from app.models.enums import GenerationKind
from tests.graphql import Account, create_campaign, create_client

PARENTS = """
query($id: ID!) { generation(id: $id) {
  client { id } campaign { id } job { id } scene { id number }
} }
"""

BY_MODEL = """
query($w: ID!, $filter: GenerationFilterInput) { node(id: $w) { ... on Workspace {
  generations(filter: $filter) { totalCount nodes { model } }
} } }
"""


@dataclass
class Parents:
    client: str
    campaign: str
    job: str
    scene: str


def _pk(global_id: str) -> uuid.UUID:
    return decode_global_id(global_id).id


async def _parents(owner: Account, db: AsyncSession) -> Parents:
    client = await create_client(owner.gql, owner.workspace_id)
    campaign = await create_campaign(owner.gql, client)
    job = Job(
        workspace_id=_pk(owner.workspace_id),
        client_id=_pk(client),
        campaign_id=_pk(campaign),
        product="Fizz",
        target_audience="Teens",
        key_message="Cold",
        call_to_action="Buy",
        style="Modern",
    )
    db.add(job)
    await db.flush()
    scene = Scene(job_id=job.id, number=1, description="d", image_prompt="p", duration_seconds=5)
    db.add(scene)
    await db.commit()
    return Parents(
        client, campaign, encode_global_id("Job", job.id), encode_global_id("Scene", scene.id)
    )


async def _generation(owner: Account, db: AsyncSession, model: str = "m", **parents: Any) -> str:
    row = Generation(
        workspace_id=_pk(owner.workspace_id),
        kind=GenerationKind.IMAGE,
        model=model,
        provider="local",
        **parents,
    )
    db.add(row)
    await db.commit()
    return encode_global_id("Generation", row.id)


class TestParents:
    async def test_a_scene_generation_leads_to_all_four(
        self, owner: Account, db: AsyncSession
    ) -> None:
        p = await _parents(owner, db)
        generation = await _generation(
            owner,
            db,
            client_id=_pk(p.client),
            campaign_id=_pk(p.campaign),
            job_id=_pk(p.job),
            scene_id=_pk(p.scene),
        )
        result = await owner.gql(PARENTS, {"id": generation})
        assert result.ok()["generation"] == {
            "client": {"id": p.client},
            "campaign": {"id": p.campaign},
            "job": {"id": p.job},
            "scene": {"id": p.scene, "number": 1},
        }

    async def test_a_loose_generation_has_none(self, owner: Account, db: AsyncSession) -> None:
        generation = await _generation(owner, db)
        result = await owner.gql(PARENTS, {"id": generation})
        assert result.ok()["generation"] == {
            "client": None,
            "campaign": None,
            "job": None,
            "scene": None,
        }

    async def test_a_deleted_campaign_reads_as_null(self, owner: Account, db: AsyncSession) -> None:
        campaign = await create_campaign(
            owner.gql, await create_client(owner.gql, owner.workspace_id)
        )
        generation = await _generation(owner, db, campaign_id=_pk(campaign))
        deleted = await owner.gql(
            "mutation($id: ID!) { deleteCampaign(input: {id: $id}) { deletedCampaignId } }",
            {"id": campaign},
        )
        assert deleted.ok()
        assert (await owner.gql(PARENTS, {"id": generation})).ok()["generation"]["campaign"] is None

    async def test_parents_in_another_workspace_stay_hidden(
        self, owner: Account, stranger: Account, db: AsyncSession
    ) -> None:
        theirs = await _parents(stranger, db)
        generation = await _generation(
            owner,
            db,
            client_id=_pk(theirs.client),
            campaign_id=_pk(theirs.campaign),
            job_id=_pk(theirs.job),
            scene_id=_pk(theirs.scene),
        )
        result = await owner.gql(PARENTS, {"id": generation})
        assert result.ok()["generation"] == {
            "client": None,
            "campaign": None,
            "job": None,
            "scene": None,
        }


class TestModelFilter:
    async def test_lists_only_that_model(self, owner: Account, db: AsyncSession) -> None:
        for model in ("black-forest-labs/flux-schnell", "black-forest-labs/flux-dev", "x/flux"):
            await _generation(owner, db, model=model)
        result = await owner.gql(
            BY_MODEL,
            {"w": owner.workspace_id, "filter": {"model": "black-forest-labs/flux-schnell"}},
        )
        page = result.ok()["node"]["generations"]
        assert page == {
            "totalCount": 1,
            "nodes": [{"model": "black-forest-labs/flux-schnell"}],
        }

    async def test_the_match_is_exact(self, owner: Account, db: AsyncSession) -> None:
        await _generation(owner, db, model="black-forest-labs/flux-schnell")
        for near in ("flux-schnell", "BLACK-FOREST-LABS/FLUX-SCHNELL", "black-forest-labs/%"):
            result = await owner.gql(BY_MODEL, {"w": owner.workspace_id, "filter": {"model": near}})
            assert result.ok()["node"]["generations"]["totalCount"] == 0, near

    @pytest.mark.parametrize("bad", ["", "m" * 121])
    async def test_an_impossible_model_id_is_bad_input(self, owner: Account, bad: str) -> None:
        result = await owner.gql(BY_MODEL, {"w": owner.workspace_id, "filter": {"model": bad}})
        assert result.code == "BAD_USER_INPUT"
        assert "model" in result.errors[0]["extensions"]["fields"]
