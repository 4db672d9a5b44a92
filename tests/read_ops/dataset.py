"""The dataset both read paths answer from, inserted in bulk with SQLAlchemy Core.

Three users and four workspaces. The actor owns "North" (where another user edits), views
"South" (owned by that user) and has an empty personal workspace; "Rival" belongs to a third
user and none of its ids may be seen. Every column shape occurs: nulls and values, every enum
member, fractional money, JSON briefs full and partial, ties in ``created_at`` and in names.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlmodel import SQLModel

from app.models import (
    Asset,
    Campaign,
    Client,
    CostEntry,
    Generation,
    Invitation,
    Job,
    Membership,
    Scene,
    User,
    Workspace,
)
from app.models.enums import CampaignStatus, InvitationStatus, Role
from tests.databases import blocking_url
from tests.read_ops.media import add_assets, add_generations, add_jobs
from tests.read_ops.rows import NOW, Rows, gid

PASSWORD = "correct horse battery"
ACTOR_EMAIL = "actor@example.com"
# Insertion order: parents before children.
TABLES: list[type[SQLModel]] = [User, Workspace, Membership, Invitation, Client, Campaign]
TABLES += [Asset, Job, Scene, Generation, CostEntry]


@dataclass
class Dataset:
    """What the operation generator draws ids and values from (global ids, by type)."""

    visible: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    foreign: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    deleted: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    models: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    def note(self, bucket: str, type_name: str, row: dict[str, Any]) -> None:
        getattr(self, bucket)[type_name].append(gid(type_name, row))


def build(seed: int = 13) -> tuple[Rows, Dataset, list[tuple[type[Any], uuid.UUID]]]:
    """Every row, what the generator needs to know of them, and the rows to delete after."""
    rows, data = Rows(seed), Dataset()
    hasher = PasswordHasher(time_cost=1, memory_cost=1024)
    users = [
        rows.add(User, email=email, name=name, password_hash=hasher.hash(PASSWORD))
        for email, name in (
            (ACTOR_EMAIL, "Ann Actor"),
            ("bob@example.com", "Bob"),
            ("cy@x.io", "Cy"),
        )
    ]
    actor, bob, cy = users
    data.note("visible", "User", actor)
    spaces = {
        "north": rows.add(Workspace, name="North", slug="north"),
        "south": rows.add(Workspace, name="South", slug="south"),
        "personal": rows.add(Workspace, name="Ann", slug="ann", is_personal=True),
        "rival": rows.add(Workspace, name="Rival", slug="rival"),
    }
    for key, user, role in (
        ("north", actor, Role.OWNER), ("north", bob, Role.EDITOR), ("north", cy, Role.VIEWER),
        ("south", bob, Role.OWNER), ("south", actor, Role.VIEWER),
        ("personal", actor, Role.OWNER), ("rival", cy, Role.OWNER),
    ):  # fmt: skip
        membership = rows.add(
            Membership, workspace_id=spaces[key]["id"], user_id=user["id"], role=role
        )
        data.note("foreign" if key == "rival" else "visible", "Membership", membership)
    for key, space in spaces.items():
        data.note("foreign" if key == "rival" else "visible", "Workspace", space)
    _invitations(rows, data, spaces, bob)
    doomed: list[tuple[type[Any], uuid.UUID]] = []
    for key, clients in (("north", 6), ("south", 3), ("rival", 2)):
        bucket = "foreign" if key == "rival" else "visible"
        _clients(rows, data, bucket, spaces[key], actor, clients, doomed)
    data.models = ["black-forest-labs/flux-schnell", "google/veo-3", "meta/musicgen", "x/text"]
    data.tags = ["hero", "summer", "b-roll", "missing"]
    return rows, data, doomed


def _invitations(rows: Rows, data: Dataset, spaces: dict[str, Any], bob: dict[str, Any]) -> None:
    for key, email, status, days in (
        ("north", "new@example.com", InvitationStatus.PENDING, 5),
        ("north", "late@example.com", InvitationStatus.PENDING, -3),
        ("north", "gone@example.com", InvitationStatus.REVOKED, 9),
        ("south", ACTOR_EMAIL, InvitationStatus.PENDING, 4),
        ("rival", ACTOR_EMAIL, InvitationStatus.PENDING, 6),
    ):
        invitation = rows.add(
            Invitation,
            workspace_id=spaces[key]["id"],
            email=email,
            role=Role.EDITOR,
            status=status,
            invited_by_id=bob["id"],
            expires_at=NOW + timedelta(days=days),
        )
        data.note("foreign" if key == "rival" else "visible", "Invitation", invitation)


def _clients(
    rows: Rows,
    data: Dataset,
    bucket: str,
    space: dict[str, Any],
    actor: dict[str, Any],
    count: int,
    doomed: list[tuple[type[Any], uuid.UUID]],
) -> None:
    guidelines: list[dict[str, Any] | None] = [
        None,
        {"tone": "warm"},
        {"colors": ["#112233", "#fff"], "fonts": ["Inter"], "tone": None, "restrictions": ["no red"],
         "examples": ["https://example.com/a.png"]},
    ]  # fmt: skip
    for index in range(count + 1):
        name = "Acme" if index in {1, 2} else f"{space['name']} client {index}"
        client = rows.add(
            Client,
            tie=index == 2,  # two clients named Acme created at the same moment
            workspace_id=space["id"],
            created_by_id=actor["id"],
            name=name,
            description=None if index % 2 else f"Brand {index}: 100% natural_ingredients",
            brand_guidelines=guidelines[index % 3],
        )
        if index == count:  # deleted before the test: its id must be NOT_FOUND
            data.note("deleted", "Client", client)
            doomed.append((Client, client["id"]))
        else:
            data.note(bucket, "Client", client)
        children = "deleted" if index == count else bucket
        _campaigns(rows, data, children, space, client, index, doomed)


def _campaigns(
    rows: Rows,
    data: Dataset,
    bucket: str,
    space: dict[str, Any],
    client: dict[str, Any],
    index: int,
    doomed: list[tuple[type[Any], uuid.UUID]],
) -> None:
    statuses = list(CampaignStatus)
    briefs: list[dict[str, Any] | None] = [
        None,
        {"objective": "awareness", "key_messages": ["new", "spring"]},
        {"objective": None, "target_audience": "students", "key_messages": [], "notes": "late"},
    ]
    budgets = [None, Decimal("1500.00"), Decimal("0.125"), Decimal("99999.999999")]
    campaigns = []
    for k in range(index % 4 + 1):
        campaign = rows.add(
            Campaign,
            tie=k == 1,
            workspace_id=space["id"],
            client_id=client["id"],
            name="Launch" if k < 2 else f"Campaign {index}-{k}",
            goal="Sell more jackets.",
            status=statuses[(index + k) % 3],
            brief=briefs[(index + k) % 3],
            budget=budgets[(index * 3 + k) % 4],
        )
        if index == 0 and k == 0:  # the first client's only campaign is deleted
            data.note("deleted", "Campaign", campaign)
            doomed.append((Campaign, campaign["id"]))
        else:
            data.note(bucket, "Campaign", campaign)
        campaigns.append(campaign)
    owner = (space, client, campaigns)
    assets = add_assets(rows, data, bucket, owner)
    jobs = add_jobs(rows, data, bucket, owner, assets)
    add_generations(rows, data, bucket, owner, assets, jobs)


def insert(database_url: str, seed: int = 13) -> Dataset:
    """Build the dataset, insert it (one transaction), then delete the doomed rows in a second
    one, as the app would: PostgreSQL re-checks every foreign key of a row its own transaction
    wrote when a cascade updates it, so deleting in the inserting transaction trips on
    ``ON DELETE SET NULL`` links to rows the same cascade removed."""
    rows, data, doomed = build(seed)
    engine = sa.create_engine(blocking_url(database_url))
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            for table in TABLES:
                if rows.tables[table]:
                    connection.execute(sa.insert(table), rows.tables[table])
        with engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            for doomed_table, row_id in doomed:
                connection.execute(sa.delete(doomed_table).where(doomed_table.id == row_id))
    finally:
        engine.dispose()
    return data
