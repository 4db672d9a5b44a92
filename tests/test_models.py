"""The data model: indexes, money types and the constraints the domain relies on."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from app.db import create_engine, create_sessionmaker
from app.models import (
    Asset,
    Campaign,
    Client,
    CostEntry,
    Job,
    JobEvent,
    Membership,
    User,
    Workspace,
)
from app.models.enums import AssetKind, BillingBasis, CostKind, Role


class TestMetadata:
    def test_every_foreign_key_leads_an_index(self) -> None:
        missing = []
        for table in SQLModel.metadata.tables.values():
            leading = {next(iter(index.columns)).name for index in table.indexes}
            leading |= {
                next(iter(c.columns)).name
                for c in table.constraints
                if isinstance(c, sa.UniqueConstraint | sa.PrimaryKeyConstraint) and c.columns
            }
            missing += [
                f"{table.name}.{fk.parent.name}"
                for fk in table.foreign_keys
                if fk.parent.name not in leading
            ]
        assert missing == []

    def test_every_foreign_key_says_what_happens_on_delete(self) -> None:
        undecided = [
            f"{fk.parent.table.name}.{fk.parent.name}"
            for table in SQLModel.metadata.tables.values()
            for fk in table.foreign_keys
            if fk.ondelete not in {"CASCADE", "SET NULL", "RESTRICT"}
        ]
        assert undecided == []

    def test_money_is_numeric_never_float(self) -> None:
        money_columns = [
            column
            for table in SQLModel.metadata.tables.values()
            for column in table.columns
            if column.name in {"amount", "cost", "budget", "unit_price"}
            or column.name.endswith("_cost")
        ]
        assert len(money_columns) >= 7
        for column in money_columns:
            assert isinstance(column.type, sa.Numeric), column
            assert not isinstance(column.type, sa.Float), column
            assert column.type.asdecimal


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()


async def _workspace_with_client(session: AsyncSession) -> tuple[Workspace, Client]:
    workspace = Workspace(name="Acme Agency", slug=f"acme-{uuid.uuid4().hex[:8]}")
    session.add(workspace)
    await session.flush()
    client = Client(workspace_id=workspace.id, name="Fizz Cola")
    session.add(client)
    await session.flush()
    return workspace, client


class TestConstraints:
    async def test_one_membership_per_user_and_workspace(self, session: AsyncSession) -> None:
        workspace, _ = await _workspace_with_client(session)
        user = User(email="a@example.com", name="A", password_hash="x")
        session.add(user)
        await session.flush()
        session.add(Membership(workspace_id=workspace.id, user_id=user.id, role=Role.OWNER))
        await session.flush()
        session.add(Membership(workspace_id=workspace.id, user_id=user.id, role=Role.VIEWER))
        with pytest.raises(IntegrityError):
            await session.flush()

    async def test_event_sequence_numbers_are_unique_per_stream(
        self, session: AsyncSession
    ) -> None:
        workspace, _ = await _workspace_with_client(session)
        for n, stream in enumerate(("job:a", "job:b"), start=1):
            session.add(
                JobEvent(
                    workspace_id=workspace.id, stream_id=stream, seq=1, workspace_seq=n, type="x"
                )
            )
        await session.flush()
        session.add(
            JobEvent(workspace_id=workspace.id, stream_id="job:a", seq=1, workspace_seq=3, type="y")
        )
        with pytest.raises(IntegrityError):
            await session.flush()

    async def test_workspace_sequence_numbers_are_unique_per_workspace(
        self, session: AsyncSession
    ) -> None:
        workspace, _ = await _workspace_with_client(session)
        for stream in ("job:a", "job:b"):
            session.add(
                JobEvent(
                    workspace_id=workspace.id, stream_id=stream, seq=1, workspace_seq=1, type="x"
                )
            )
        with pytest.raises(IntegrityError):
            await session.flush()

    async def test_job_idempotency_keys_are_unique_per_workspace(
        self, session: AsyncSession
    ) -> None:
        workspace, client = await _workspace_with_client(session)
        for _ in range(2):
            session.add(_job(workspace, client, idempotency_key="same"))
        with pytest.raises(IntegrityError):
            await session.flush()

    async def test_job_duration_is_checked_by_the_database(self, session: AsyncSession) -> None:
        workspace, client = await _workspace_with_client(session)
        job = _job(workspace, client)
        job.duration_seconds = 45
        session.add(job)
        with pytest.raises(IntegrityError):
            await session.flush()

    async def test_enum_values_outside_the_set_are_refused(self, session: AsyncSession) -> None:
        workspace, client = await _workspace_with_client(session)
        session.add(Campaign(workspace_id=workspace.id, client_id=client.id, name="n", goal="g"))
        await session.flush()
        with pytest.raises(IntegrityError):
            await session.execute(sa.text("UPDATE campaign SET status = 'paused'"))


class TestDeleteRules:
    async def test_deleting_a_client_removes_its_campaigns_but_keeps_assets_and_ledger(
        self, session: AsyncSession
    ) -> None:
        workspace, client = await _workspace_with_client(session)
        campaign = Campaign(workspace_id=workspace.id, client_id=client.id, name="C", goal="G")
        session.add(campaign)
        await session.flush()
        asset = Asset(
            workspace_id=workspace.id,
            client_id=client.id,
            campaign_id=campaign.id,
            kind=AssetKind.IMAGE,
            name="logo.png",
        )
        entry = CostEntry(
            workspace_id=workspace.id,
            client_id=client.id,
            campaign_id=campaign.id,
            kind=CostKind.ACTUAL,
            basis=BillingBasis.PER_IMAGE,
            amount=Decimal("0.003"),
        )
        session.add_all([asset, entry])
        await session.flush()
        await session.execute(sa.delete(Client).where(sa.column("id") == client.id))
        session.expunge_all()

        assert await session.get(Campaign, campaign.id) is None
        kept_asset = await session.get(Asset, asset.id)
        kept_entry = await session.get(CostEntry, entry.id)
        assert kept_asset is not None
        assert (kept_asset.client_id, kept_asset.campaign_id) == (None, None)
        assert kept_entry is not None
        assert (kept_entry.client_id, kept_entry.campaign_id) == (None, None)
        assert kept_entry.workspace_id == workspace.id


class TestValues:
    async def test_money_round_trips_exactly(self, session: AsyncSession) -> None:
        workspace, client = await _workspace_with_client(session)
        entry = CostEntry(
            workspace_id=workspace.id,
            client_id=client.id,
            kind=CostKind.ACTUAL,
            basis=BillingBasis.PER_GPU_SECOND,
            quantity=Decimal("12.5"),
            unit_price=Decimal("0.000225"),
            amount=Decimal("0.002813"),
        )
        session.add(entry)
        await session.commit()
        session.expunge_all()
        loaded = await session.get(CostEntry, entry.id)
        assert loaded is not None
        assert loaded.amount == Decimal("0.002813")
        assert loaded.unit_price == Decimal("0.000225")
        assert isinstance(loaded.amount, Decimal)

    async def test_timestamps_read_back_as_aware_utc(self, session: AsyncSession) -> None:
        workspace, _ = await _workspace_with_client(session)
        await session.commit()
        session.expunge_all()
        loaded = await session.get(Workspace, workspace.id)
        assert loaded is not None
        assert loaded.created_at.tzinfo is not None
        assert loaded.created_at.utcoffset() == UTC.utcoffset(None)
        assert abs((loaded.created_at - workspace.created_at).total_seconds()) < 0.001

    async def test_naive_timestamps_are_refused(self, session: AsyncSession) -> None:
        workspace = Workspace(name="N", slug="naive", created_at=datetime(2026, 1, 1))  # noqa: DTZ001
        session.add(workspace)
        with pytest.raises(Exception, match="naive datetimes"):
            await session.flush()


def _job(workspace: Workspace, client: Client, **overrides: object) -> Job:
    job = Job(
        workspace_id=workspace.id,
        client_id=client.id,
        product="Fizz",
        target_audience="Teens",
        key_message="Refreshing",
        call_to_action="Buy now",
        style="Modern",
    )
    for name, value in overrides.items():
        setattr(job, name, value)
    return job
