"""Where new content goes: a workspace, optionally a client and a campaign that agree."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.errors import BadUserInputError, ConflictError
from app.models import Campaign, Client
from app.models.enums import CampaignStatus, Role
from app.services.access import get_visible


@dataclass(frozen=True, slots=True)
class Placement:
    workspace_id: uuid.UUID
    client_id: uuid.UUID | None = None
    campaign_id: uuid.UUID | None = None


async def place(
    session: AsyncSession,
    actor: Actor,
    *,
    workspace_id: uuid.UUID | None,
    client_id: uuid.UUID | None,
    campaign_id: uuid.UUID | None,
    minimum: Role = Role.EDITOR,
) -> Placement:
    """Check the ids agree and the actor may add work there; an archived campaign takes none."""
    if campaign_id is not None:
        campaign = await get_visible(session, actor, Campaign, campaign_id, what="Campaign")
        if campaign.status is CampaignStatus.ARCHIVED:
            raise ConflictError("An archived campaign takes no new work.")
        _agree("clientId", client_id, campaign.client_id)
        _agree("workspaceId", workspace_id, campaign.workspace_id)
        placement = Placement(campaign.workspace_id, campaign.client_id, campaign.id)
    elif client_id is not None:
        client = await get_visible(session, actor, Client, client_id, what="Client")
        _agree("workspaceId", workspace_id, client.workspace_id)
        placement = Placement(client.workspace_id, client.id)
    elif workspace_id is not None:
        placement = Placement(workspace_id)
    else:
        raise BadUserInputError(
            "Say where this belongs: a workspaceId, clientId or campaignId.",
            fields={"workspaceId": "is required without clientId or campaignId"},
        )
    actor.require(placement.workspace_id, minimum)
    return placement


def _agree(field: str, given: uuid.UUID | None, actual: uuid.UUID) -> None:
    if given is not None and given != actual:
        raise BadUserInputError(
            "The ids do not belong together.", fields={field: "does not match the others"}
        )
