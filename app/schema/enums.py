"""GraphQL enums, backed by the domain's own enums (GraphQL names are the member names).

``strawberry.enum`` registers each domain enum in place, so the schema modules annotate
fields with the domain classes themselves, imported from here.
"""

from __future__ import annotations

import strawberry

from app.errors import ErrorCode
from app.models.enums import (
    ApiKeyScope,
    AssetKind,
    AssetSource,
    AssetStatus,
    CampaignStatus,
    InvitationStatus,
    Role,
)
from app.pagination import Direction
from app.services.listing import OrderField

strawberry.enum(Role, name="Role", description="A member's role in a workspace.")
strawberry.enum(
    ApiKeyScope,
    name="ApiKeyScope",
    description="READ_ONLY keys run queries and subscriptions only; FULL keys may also mutate.",
)
strawberry.enum(
    InvitationStatus,
    name="InvitationStatus",
    description="PENDING until the invitee accepts or declines, or an admin revokes it.",
)
strawberry.enum(CampaignStatus, name="CampaignStatus", description="DRAFT → ACTIVE → ARCHIVED.")
strawberry.enum(
    ErrorCode, name="ErrorCode", description="The stable code in every error's extensions.code."
)
strawberry.enum(Direction, name="OrderDirection")
strawberry.enum(AssetKind, name="AssetKind")
strawberry.enum(AssetSource, name="AssetSource", description="How the asset came to be.")
strawberry.enum(
    AssetStatus, name="AssetStatus", description="PENDING → PROCESSING → READY or REJECTED."
)
strawberry.enum(OrderField, name="OrderField", description="What a connection is sorted by.")

__all__ = [
    "ApiKeyScope",
    "AssetKind",
    "AssetSource",
    "AssetStatus",
    "CampaignStatus",
    "Direction",
    "ErrorCode",
    "InvitationStatus",
    "OrderField",
    "Role",
]
