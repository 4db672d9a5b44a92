"""Per-request DataLoaders: one statement per level of a query, whatever the page sizes."""

from __future__ import annotations

import asyncio
import uuid
from asyncio import Future
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from strawberry.dataloader import DataLoader

from app.auth.actor import Actor
from app.id_lists import IdList
from app.models import (
    ApiKey,
    Asset,
    Campaign,
    Client,
    Generation,
    Invitation,
    Job,
    Membership,
    Scene,
    User,
    Workspace,
)
from app.pagination import Page, count_statement, make_page, page_statement
from app.services import stats
from app.services.access import (
    visible,
    visible_api_keys,
    visible_invitations,
    visible_users,
)
from app.services.listing import Filter, ListSpec


@dataclass(frozen=True, slots=True)
class InvitationLabels:
    """What an invitee may read of a workspace before joining it."""

    workspace_name: str
    invited_by_name: str | None


PageKey = tuple[uuid.UUID, ListSpec]
CountKey = tuple[uuid.UUID, tuple[type[Any], str, Filter]]


K = TypeVar("K")
V = TypeVar("V")


class SharedLoader(DataLoader[K, V]):
    """A DataLoader whose callers cannot cancel each other.

    Every caller asking for a key shares one future. When a field fails and GraphQL cancels
    its siblings, cancelling a sibling's wait must not cancel that shared future: another
    root field may be waiting on the same key (it would get a CancelledError that escapes the
    whole request). Each caller waits through a shield of its own.
    """

    def load(self, key: K) -> Future[V]:
        return asyncio.shield(super().load(key))


class Loaders:
    """Created per request (or per subscription event) with the session and actor it serves."""

    def __init__(self, session: Callable[[], AsyncSession], actor: Callable[[], Actor]) -> None:
        self._session = session
        self._actor = actor
        self._inflight: set[asyncio.Future[list[Any]]] = set()
        self.workspace = self._node_loader(Workspace)
        self.client = self._node_loader(Client)
        self.campaign = self._node_loader(Campaign)
        self.membership = self._node_loader(Membership)
        self.asset = self._node_loader(Asset)
        self.generation = self._node_loader(Generation)
        self.job = self._node_loader(Job)
        self.scene = self._node_loader(Scene)
        self.job_scenes: DataLoader[uuid.UUID, list[Scene]] = self._loader(self._load_job_scenes)
        self.user: DataLoader[uuid.UUID, User | None] = self._loader(self._load_users)
        self.invitation: DataLoader[uuid.UUID, Invitation | None] = self._loader(
            self._load_invitations
        )
        self.invitation_labels: DataLoader[uuid.UUID, InvitationLabels] = self._loader(
            self._load_invitation_labels
        )
        self.api_key: DataLoader[uuid.UUID, ApiKey | None] = self._loader(self._load_api_keys)
        self.page: DataLoader[PageKey, Page[Any]] = self._loader(self._load_pages)
        self.count: DataLoader[CountKey, int] = self._loader(self._load_counts)
        self.client_stats: DataLoader[uuid.UUID, stats.ClientStats] = self._loader(
            self._load_client_stats
        )
        self.campaign_stats: DataLoader[uuid.UUID, stats.CampaignStats] = self._loader(
            self._load_campaign_stats
        )
        self.job_spend: DataLoader[uuid.UUID, Decimal] = self._loader(self._load_job_spend)
        self.user_memberships: DataLoader[uuid.UUID, list[Membership]] = self._loader(
            self._load_user_memberships
        )
        self._by_model: dict[type[Any], DataLoader[uuid.UUID, Any]] = {
            Workspace: self.workspace,
            Client: self.client,
            Campaign: self.campaign,
            Membership: self.membership,
            Invitation: self.invitation,
            Asset: self.asset,
            Generation: self.generation,
            Job: self.job,
            Scene: self.scene,
        }

    def _loader(
        self, load: Callable[[Sequence[Any]], Awaitable[list[Any]]]
    ) -> DataLoader[Any, Any]:
        return SharedLoader(load_fn=self._tracked(load))

    def _tracked(self, load: Callable[[Sequence[Any]], Awaitable[list[Any]]]) -> Any:
        """``load`` run as a task of its own that :meth:`drain` waits for.

        When a field fails and GraphQL cancels its siblings, a batch may be cancelled in the
        middle of a statement, or still be running when the operation ends. Shielded and
        tracked, the statement always finishes before the session closes, and no batch
        started later opens another session (see ``Context.close``).
        """

        async def tracked(keys: Sequence[Any]) -> list[Any]:
            task = asyncio.ensure_future(load(keys))
            self._inflight.add(task)
            task.add_done_callback(_settle)
            task.add_done_callback(self._inflight.discard)
            return await asyncio.shield(task)

        return tracked

    async def drain(self) -> None:
        """Wait until no batch is running on the session."""
        while self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)

    def release(self) -> None:
        """Let go of every loader once the operation has drained them.

        Each loader's batch function holds this object, a reference cycle per request that
        only the cyclic garbage collector could free; after this, reference counting does.
        """
        self.__dict__.clear()

    def _node_loader(self, model: type[Any]) -> DataLoader[uuid.UUID, Any]:
        return self._loader(partial(self._load_nodes, model))

    def _dialect(self) -> str:
        return self._session().get_bind().dialect.name

    async def _rows(self, statement: Any) -> list[Any]:
        return list((await self._session().execute(statement)).scalars())

    async def _load_nodes(self, model: type[Any], ids: Sequence[uuid.UUID]) -> list[Any]:
        actor = self._actor()
        condition: sa.ColumnElement[bool]
        if model is Workspace:
            condition = col(Workspace.id).in_(actor.workspace_ids)
        else:
            condition = visible(actor, model)
        rows = await self._rows(sa.select(model).where(model.id.in_(ids), condition))
        by_id = {row.id: row for row in rows}
        return [by_id.get(i) for i in ids]

    async def _load_job_scenes(self, job_ids: Sequence[uuid.UUID]) -> list[list[Scene]]:
        """Each job's scenes in storyboard order, for every job asked about at once."""
        statement = (
            sa.select(Scene)
            .where(col(Scene.job_id).in_(job_ids), visible(self._actor(), Scene))
            .order_by(col(Scene.job_id), col(Scene.number))
        )
        rows = await self._rows(statement)
        self._prime(Scene, rows)
        by_job: dict[uuid.UUID, list[Scene]] = defaultdict(list)
        for row in rows:
            by_job[row.job_id].append(row)
        return [by_job[i] for i in job_ids]

    async def _load_users(self, ids: Sequence[uuid.UUID]) -> list[User | None]:
        statement = sa.select(User).where(col(User.id).in_(ids), visible_users(self._actor()))
        by_id = {row.id: row for row in await self._rows(statement)}
        return [by_id.get(i) for i in ids]

    async def _load_api_keys(self, ids: Sequence[uuid.UUID]) -> list[ApiKey | None]:
        statement = sa.select(ApiKey).where(
            col(ApiKey.id).in_(ids), visible_api_keys(self._actor())
        )
        by_id = {row.id: row for row in await self._rows(statement)}
        return [by_id.get(i) for i in ids]

    async def _load_invitations(self, ids: Sequence[uuid.UUID]) -> list[Invitation | None]:
        statement = sa.select(Invitation).where(
            col(Invitation.id).in_(ids), visible_invitations(self._actor())
        )
        by_id = {row.id: row for row in await self._rows(statement)}
        return [by_id.get(i) for i in ids]

    async def _load_invitation_labels(self, ids: Sequence[uuid.UUID]) -> list[InvitationLabels]:
        """Only asked for invitations already loaded through :meth:`_load_invitations`."""
        statement = (
            sa.select(col(Invitation.id), col(Workspace.name), col(User.name))
            .join(Workspace, col(Workspace.id) == col(Invitation.workspace_id))
            .outerjoin(User, col(User.id) == col(Invitation.invited_by_id))
            .where(col(Invitation.id).in_(ids))
        )
        found = {
            row[0]: InvitationLabels(row[1], row[2])
            for row in await self._session().execute(statement)
        }
        return [found.get(i, InvitationLabels("", None)) for i in ids]

    async def _load_pages(self, keys: Sequence[PageKey]) -> list[Page[Any]]:
        groups: dict[ListSpec, list[uuid.UUID]] = defaultdict(list)
        for parent_id, spec in keys:
            groups[spec].append(parent_id)
        pages: dict[PageKey, Page[Any]] = {}
        for spec, parent_ids in groups.items():
            statement = page_statement(
                spec.model,
                spec.parent_column,
                IdList(parent_ids, self._dialect()),
                spec.args,
                spec.order_column,
                spec.conditions(),
            )
            by_parent: dict[uuid.UUID, list[Any]] = defaultdict(list)
            rows = await self._rows(statement)
            for row in rows:
                by_parent[getattr(row, spec.parent)].append(row)
            self._prime(spec.model, rows)
            for parent_id in parent_ids:
                pages[(parent_id, spec)] = make_page(by_parent[parent_id], spec.args)
        return [pages[key] for key in keys]

    def _prime(self, model: type[Any], rows: list[Any]) -> None:
        """Rows read for a page also answer later look-ups by ID (e.g. ``campaign.client``)."""
        loader = self._by_model.get(model)
        if loader is not None:
            loader.prime_many({row.id: row for row in rows})

    async def _load_counts(self, keys: Sequence[CountKey]) -> list[int]:
        groups: dict[tuple[type[Any], str, Filter], list[uuid.UUID]] = defaultdict(list)
        for parent_id, count_key in keys:
            groups[count_key].append(parent_id)
        counts: dict[CountKey, int] = {}
        for (model, parent, list_filter), parent_ids in groups.items():
            parents = IdList(parent_ids, self._dialect())
            statement = count_statement(getattr(model, parent), parents, list_filter.conditions())
            found = {row[0]: row[1] for row in await self._session().execute(statement)}
            for parent_id in parent_ids:
                counts[(parent_id, (model, parent, list_filter))] = int(found.get(parent_id, 0))
        return [counts[key] for key in keys]

    async def _load_client_stats(self, ids: Sequence[uuid.UUID]) -> list[stats.ClientStats]:
        found = await stats.client_stats(self._session(), list(ids))
        empty = stats.ClientStats(0, 0, stats.to_money(None))
        return [found.get(i, empty) for i in ids]

    async def _load_campaign_stats(self, ids: Sequence[uuid.UUID]) -> list[stats.CampaignStats]:
        found = await stats.campaign_stats(self._session(), list(ids))
        zero = stats.to_money(None)
        return [found.get(i, stats.CampaignStats(0, zero, zero)) for i in ids]

    async def _load_job_spend(self, ids: Sequence[uuid.UUID]) -> list[Decimal]:
        found = await stats.job_spend(self._session(), list(ids))
        return [found.get(i, stats.to_money(None)) for i in ids]

    async def _load_user_memberships(self, ids: Sequence[uuid.UUID]) -> list[list[Membership]]:
        statement = (
            sa.select(Membership)
            .where(col(Membership.user_id).in_(ids), visible(self._actor(), Membership))
            .order_by(col(Membership.created_at), col(Membership.id))
        )
        by_user: dict[uuid.UUID, list[Membership]] = defaultdict(list)
        for row in await self._rows(statement):
            by_user[row.user_id].append(row)
        return [by_user[i] for i in ids]


def _settle(task: asyncio.Future[Any]) -> None:
    """Mark a batch's failure as seen: its callers got it, or were cancelled and need it not."""
    if not task.cancelled():
        task.exception()
