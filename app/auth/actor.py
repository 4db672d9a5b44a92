"""The authenticated actor behind a request and its roles per workspace."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from app.errors import ForbiddenError, NotFoundError
from app.models.enums import Role

ROLE_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.ADMIN: 3, Role.OWNER: 4}


class AuthMethod(StrEnum):
    ACCESS_TOKEN = "access_token"  # noqa: S105 (a kind, not a secret)
    API_KEY = "api_key"


@dataclass(frozen=True, slots=True)
class KeyBounds:
    """How far an API key narrows its user's rights; the default narrows nothing."""

    read_only: bool = False
    workspace_id: uuid.UUID | None = None
    expires_at: datetime | None = None

    def restrict(self, roles: Mapping[uuid.UUID, Role]) -> dict[uuid.UUID, Role]:
        """The roles this credential may use: all of them, or the bound workspace's only."""
        if self.workspace_id is None:
            return dict(roles)
        return {ws: role for ws, role in roles.items() if ws == self.workspace_id}


UNBOUNDED = KeyBounds()


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting, with the roles this credential may use (already narrowed by ``bounds``)."""

    user_id: uuid.UUID
    method: AuthMethod
    roles: Mapping[uuid.UUID, Role] = field(default_factory=dict)
    session_id: uuid.UUID | None = None
    expires_at: datetime | None = None  # when the credential stops working, if it ever does
    bounds: KeyBounds = UNBOUNDED

    @property
    def read_only(self) -> bool:
        return self.bounds.read_only

    def require_unbound(self, action: str) -> None:
        """FORBIDDEN for a credential bound to one workspace (``action`` is beyond it)."""
        if self.bounds.workspace_id is not None:
            raise ForbiddenError(
                f"This API key is bound to one workspace; it cannot {action}.",
                reason="API_KEY_SCOPE",
            )

    @property
    def workspace_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(self.roles)

    def role_in(self, workspace_id: uuid.UUID) -> Role | None:
        return self.roles.get(workspace_id)

    def require(self, workspace_id: uuid.UUID, minimum: Role, *, what: str = "Workspace") -> Role:
        """The actor's role in the workspace, if at least ``minimum``.

        Not a member: NOT_FOUND (the workspace is invisible). A lower role: FORBIDDEN.
        """
        role = self.roles.get(workspace_id)
        if role is None:
            raise NotFoundError(f"{what} not found.")
        if ROLE_RANK[role] < ROLE_RANK[minimum]:
            raise ForbiddenError(
                f"This needs the {minimum.value} role or higher; you are {role.value}.",
                requiredRole=minimum.name,
            )
        return role


def outranks(role: Role, other: Role) -> bool:
    return ROLE_RANK[role] >= ROLE_RANK[other]
