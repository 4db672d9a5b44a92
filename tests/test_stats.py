"""Client and campaign statistics from the cost ledger and jobs, exact to the cent and beyond."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.ids import decode_global_id
from app.models import CostEntry, Job
from app.models.enums import BillingBasis, CostKind, JobStatus
from tests.graphql import Account, create_campaign, create_client

STATS = """
query($c: ID!) { node(id: $c) { ... on Client {
  stats { campaignCount videoCount totalSpend { amount currency } }
  campaigns { nodes { name stats { videoCount totalSpend { amount } averageCost { amount } } } }
} } }
"""


def _id(global_id: str) -> uuid.UUID:
    return decode_global_id(global_id).id


def _job(owner: Account, client: str, campaign: str | None, status: JobStatus) -> Job:
    return Job(
        workspace_id=_id(owner.workspace_id),
        client_id=_id(client),
        campaign_id=_id(campaign) if campaign else None,
        product="p",
        target_audience="t",
        key_message="k",
        call_to_action="c",
        style="s",
        status=status,
    )


def _spend(
    owner: Account,
    client: str,
    campaign: str | None,
    job: Job | None,
    amount: str,
    kind: CostKind = CostKind.ACTUAL,
) -> CostEntry:
    return CostEntry(
        workspace_id=_id(owner.workspace_id),
        client_id=_id(client),
        campaign_id=_id(campaign) if campaign else None,
        job_id=job.id if job else None,
        kind=kind,
        basis=BillingBasis.PER_IMAGE,
        amount=Decimal(amount),
    )


class TestStats:
    async def test_are_zero_before_any_work(self, owner: Account) -> None:
        client = await create_client(owner.gql, owner.workspace_id)
        await create_campaign(owner.gql, client)
        data = (await owner.gql(STATS, {"c": client})).ok()["node"]
        assert data["stats"] == {
            "campaignCount": 1,
            "videoCount": 0,
            "totalSpend": {"amount": "0.00", "currency": "USD"},
        }
        assert data["campaigns"]["nodes"][0]["stats"] == {
            "videoCount": 0,
            "totalSpend": {"amount": "0.00"},
            "averageCost": {"amount": "0.00"},
        }

    async def test_add_up_the_ledger_and_completed_jobs(
        self, owner: Account, db: AsyncSession
    ) -> None:
        client = await create_client(owner.gql, owner.workspace_id)
        summer = await create_campaign(owner.gql, client, "Summer")
        winter = await create_campaign(owner.gql, client, "Winter")
        done_a = _job(owner, client, summer, JobStatus.COMPLETED)
        done_b = _job(owner, client, summer, JobStatus.COMPLETED)
        failed = _job(owner, client, summer, JobStatus.FAILED)
        db.add_all([done_a, done_b, failed])
        await db.flush()
        db.add_all(
            [
                _spend(owner, client, summer, done_a, "1.003"),
                _spend(owner, client, summer, done_b, "2.0"),
                _spend(owner, client, summer, failed, "0.5"),
                _spend(owner, client, summer, None, "0.000225"),
                _spend(owner, client, winter, None, "4.1"),
                _spend(owner, client, None, None, "0.1"),
                _spend(owner, client, summer, done_a, "99", kind=CostKind.ESTIMATE),
            ]
        )
        await db.commit()

        data = (await owner.gql(STATS, {"c": client})).ok()["node"]
        assert data["stats"] == {
            "campaignCount": 2,
            "videoCount": 2,
            "totalSpend": {"amount": "7.703225", "currency": "USD"},
        }
        by_name = {c["name"]: c["stats"] for c in data["campaigns"]["nodes"]}
        assert by_name["Summer"] == {
            "videoCount": 2,
            "totalSpend": {"amount": "3.503225"},
            "averageCost": {"amount": "1.5015"},
        }
        assert by_name["Winter"] == {
            "videoCount": 0,
            "totalSpend": {"amount": "4.10"},
            "averageCost": {"amount": "0.00"},
        }

    async def test_say_how_much_of_the_spend_was_simulated(
        self, owner: Account, db: AsyncSession
    ) -> None:
        client = await create_client(owner.gql, owner.workspace_id)
        summer = await create_campaign(owner.gql, client, "Summer")
        simulated = [
            _spend(owner, client, summer, None, "0.18"),
            _spend(owner, client, None, None, "0.003"),
            _spend(owner, client, summer, None, "5", kind=CostKind.ESTIMATE),
        ]
        for entry in simulated:
            entry.simulated = True
        db.add_all([*simulated, _spend(owner, client, summer, None, "1.5")])
        await db.commit()

        query = """
        query($c: ID!) { node(id: $c) { ... on Client {
          stats { totalSpend { amount } simulatedSpend { amount } }
          campaigns { nodes { stats { totalSpend { amount } simulatedSpend { amount } } } }
        } } }
        """
        data = (await owner.gql(query, {"c": client})).ok()["node"]
        assert data["stats"] == {
            "totalSpend": {"amount": "1.683"},
            "simulatedSpend": {"amount": "0.183"},
        }
        assert data["campaigns"]["nodes"][0]["stats"] == {
            "totalSpend": {"amount": "1.68"},
            "simulatedSpend": {"amount": "0.18"},
        }
