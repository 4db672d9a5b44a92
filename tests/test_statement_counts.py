"""No N+1: a dashboard of 20 of everything costs the statements a dashboard of 2 costs.

The dashboard reads every level the API batches: clients → campaigns with statistics, jobs
with their spending → scenes → their images and clips, generations → client, campaign, job,
scene and output, and assets → client and campaign. Statements are counted on every engine of
the app (on SQLite queries read through an engine of their own).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.ids import decode_global_id
from app.loaders import Loaders
from app.models import Asset, Campaign, Client, Generation, Job, Scene
from app.models.enums import AssetKind, AssetStatus, GenerationKind
from app.settings import Settings
from tests.conftest import StatementCounter, make_settings
from tests.graphql import Account

DASHBOARD = """
query($w: ID!, $clients: Int!, $campaigns: Int!, $jobs: Int!) {
  node(id: $w) { ... on Workspace {
    name
    clients(first: $clients) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node {
        id name createdAt
        stats { campaignCount videoCount totalSpend { amount currency } }
        workspace { id }
        campaigns(first: $campaigns) {
          totalCount
          edges { node {
            id name status
            stats { videoCount totalSpend { amount } averageCost { amount } }
            client { id }
          } }
        }
      } }
    }
    jobs(first: $jobs) {
      totalCount
      edges { node {
        id status actualCost { amount }
        scenes { id number image { id } video { id } }
        finalVideo { id }
      } }
    }
    generations(first: $jobs) {
      totalCount
      nodes {
        id model
        client { id name } campaign { id name } job { id status } scene { id number }
        outputAsset { id }
      }
    }
    assets(first: $jobs) { totalCount nodes { id client { id } campaign { id } } }
  } }
}
"""
SCENES_PER_JOB = 3
# 20 SELECTs, one per level: the actor (2); the workspace; a page and a totalCount for each of
# the five lists (10); client, campaign and job spending (3); the jobs' scenes; and by ID the
# generations' scenes and campaigns (asked for before the scene and campaign lists arrive) and
# every asset the scenes and generations point at (3). Clients and jobs by ID come with their
# pages. SQLite adds a BEGIN for each of its two transactions.
STATEMENTS = {
    # With the credentials already cached.
    ("resolvers", "sqlite"): 19,
    ("resolvers", "postgresql"): 18,
    # One statement for the whole dashboard; on SQLite one more per nested list level
    # (each answered for every parent at once).
    ("compiled", "sqlite"): 8,
    ("compiled", "postgresql"): 1,
}


@pytest.fixture(params=["resolvers", "compiled"])
def read_path(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(database_url: str, tmp_path: Path, read_path: str) -> Settings:
    return make_settings(database_url, tmp_path, compiled_reads=read_path == "compiled")


class Seed:
    def __init__(self, db: AsyncSession, owner: Account) -> None:
        self.db = db
        self.workspace_id = decode_global_id(owner.workspace_id).id

    async def add(self, *rows: Any) -> None:
        self.db.add_all(rows)
        await self.db.flush()

    async def dashboard(self, clients: int, campaigns: int, jobs: int) -> None:
        """``clients`` x ``campaigns``; ``jobs`` jobs of 3 scenes, each scene drawn by a
        generation whose image is a READY asset of the job's client and campaign."""
        rows = [Client(workspace_id=self.workspace_id, name=f"C{i}") for i in range(clients)]
        await self.add(*rows)
        plans = [
            Campaign(workspace_id=self.workspace_id, client_id=c.id, name=f"C{j}", goal="g")
            for c in rows
            for j in range(campaigns)
        ]
        await self.add(*plans)
        for n in range(jobs):
            await self.job(rows[n % clients], plans[n % len(plans)])
        await self.db.commit()

    async def job(self, client: Client, campaign: Campaign) -> None:
        job = Job(
            workspace_id=self.workspace_id,
            client_id=client.id,
            campaign_id=campaign.id,
            product="p",
            target_audience="t",
            key_message="k",
            call_to_action="c",
            style="s",
        )
        await self.add(job)
        for number in range(1, SCENES_PER_JOB + 1):
            image = Asset(
                workspace_id=self.workspace_id,
                client_id=client.id,
                campaign_id=campaign.id,
                kind=AssetKind.IMAGE,
                name="frame.png",
                status=AssetStatus.READY,
            )
            await self.add(image)
            scene = Scene(
                job_id=job.id,
                number=number,
                description="d",
                image_prompt="p",
                duration_seconds=5,
                image_asset_id=image.id,
            )
            await self.add(scene)
            await self.add(
                Generation(
                    workspace_id=self.workspace_id,
                    client_id=client.id,
                    campaign_id=campaign.id,
                    job_id=job.id,
                    scene_id=scene.id,
                    output_asset_id=image.id,
                    kind=GenerationKind.IMAGE,
                    model="m",
                    provider="local",
                    idempotency_key=uuid.uuid4().hex,
                )
            )


async def _count(account: Account, statements: StatementCounter, size: tuple[int, int, int]) -> int:
    clients, campaigns, jobs = size
    assert (await account.gql("{ viewer { id } }")).ok()  # its credentials are cached from here
    before = statements.count
    variables = {"w": account.workspace_id, "clients": clients, "campaigns": campaigns}
    result = await account.gql(DASHBOARD, {**variables, "jobs": jobs})
    workspace = result.ok()["node"]
    page = workspace["clients"]
    assert len(page["edges"]) == clients
    assert all(len(e["node"]["campaigns"]["edges"]) == campaigns for e in page["edges"])
    assert [len(e["node"]["scenes"]) for e in workspace["jobs"]["edges"]] == [3] * jobs
    generations = workspace["generations"]["nodes"]
    assert len(generations) == jobs
    assert all(None not in (g["client"], g["job"], g["scene"]) for g in generations)
    assert len(workspace["assets"]["nodes"]) == jobs
    return statements.count - before


SMALL, LARGE = (2, 2, 2), (20, 10, 20)


async def _small_and_large(
    db: AsyncSession, owner: Account, stranger: Account, statements: StatementCounter
) -> tuple[int, int]:
    await Seed(db, owner).dashboard(*SMALL)
    await Seed(db, stranger).dashboard(*LARGE)
    return await _count(owner, statements, SMALL), await _count(stranger, statements, LARGE)


class TestStatementCount:
    async def test_is_the_same_for_a_page_of_2_and_a_page_of_20(
        self,
        owner: Account,
        stranger: Account,
        db: AsyncSession,
        statements: StatementCounter,
        dialect: str,
        read_path: str,
    ) -> None:
        small, large = await _small_and_large(db, owner, stranger, statements)
        assert small == large, statements.statements[-large:]
        assert large == STATEMENTS[read_path, dialect], statements.statements[-large:]

    @pytest.mark.parametrize("read_path", ["resolvers"])  # the loaders serve this path only
    async def test_notices_a_level_read_one_row_at_a_time(
        self,
        owner: Account,
        stranger: Account,
        db: AsyncSession,
        statements: StatementCounter,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """The guard itself: with every loader's batches cut to one key, 20 costs more."""
        batched = Loaders._loader

        def one_key_at_a_time(self: Loaders, load: Any) -> Any:
            loader = batched(self, load)
            loader.max_batch_size = 1
            return loader

        monkeypatch.setattr(Loaders, "_loader", one_key_at_a_time)
        small, large = await _small_and_large(db, owner, stranger, statements)
        assert large > small
