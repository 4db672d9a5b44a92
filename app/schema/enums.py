"""GraphQL enums, backed by the domain's own enums (GraphQL names are the member names)."""

from __future__ import annotations

import strawberry

from app.errors import ErrorCode
from app.models.enums import CampaignStatus, Role
from app.pagination import Direction
from app.services.listing import OrderField

RoleEnum = strawberry.enum(Role, name="Role", description="A member's role in a workspace.")
CampaignStatusEnum = strawberry.enum(
    CampaignStatus, name="CampaignStatus", description="DRAFT → ACTIVE → ARCHIVED."
)
ErrorCodeEnum = strawberry.enum(
    ErrorCode, name="ErrorCode", description="The stable code in every error's extensions.code."
)
OrderDirectionEnum = strawberry.enum(Direction, name="OrderDirection")
OrderFieldEnum = strawberry.enum(
    OrderField, name="OrderField", description="What a connection is sorted by."
)
