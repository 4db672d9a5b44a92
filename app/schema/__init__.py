"""The GraphQL schema: root types merged from the resolver modules, plus extensions."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from app.errors import AppError
from app.reads.executor import CompiledReads
from app.resolvers.accounts import AccountMutation, AccountQuery
from app.resolvers.assets import AssetMutation
from app.resolvers.campaigns import CampaignMutation
from app.resolvers.clients import ClientMutation
from app.resolvers.generations import GenerationMutation, GenerationQuery
from app.resolvers.health import HealthQuery
from app.resolvers.invitations import InvitationMutation
from app.resolvers.jobs import JobMutation, JobQuery
from app.resolvers.node import NodeQuery
from app.resolvers.subscriptions import ActivitySubscription, JobSubscription
from app.resolvers.workspaces import WorkspaceMutation
from app.schema.context import Context
from app.schema.cost import cost_limiter
from app.schema.document import DocumentGuard, NoNulText
from app.schema.enums import ErrorCode
from app.schema.errors import format_errors
from app.schema.extensions import SessionLifecycle
from app.schema.identity import IdentityRequired
from app.schema.limits import alias_rule, depth_rule
from app.schema.live import SharedEventExecutor
from app.schema.types.api_key import ApiKeyType
from app.schema.types.asset import ASSET_TYPES
from app.schema.types.campaign import CampaignType
from app.schema.types.client import ClientType
from app.schema.types.generation import GenerationType
from app.schema.types.invitation import InvitationType
from app.schema.types.job import JobType, SceneType
from app.schema.types.member import MembershipType, UserType
from app.schema.types.workspace import WorkspaceType

Subscription = merge_types("Subscription", (JobSubscription, ActivitySubscription))
Query = merge_types("Query", (NodeQuery, AccountQuery, GenerationQuery, JobQuery, HealthQuery))
Mutation = merge_types(
    "Mutation",
    (
        AccountMutation,
        WorkspaceMutation,
        InvitationMutation,
        ClientMutation,
        CampaignMutation,
        AssetMutation,
        GenerationMutation,
        JobMutation,
    ),
)
NODE_IMPLEMENTATIONS = [
    *ASSET_TYPES,
    GenerationType,
    JobType,
    SceneType,
    WorkspaceType,
    ClientType,
    CampaignType,
    MembershipType,
    InvitationType,
    UserType,
    ApiKeyType,
]


class AppSchema(strawberry.Schema):
    hide_suggestions = False

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Code every error; log and mask only the unexpected ones (never expected failures)."""
        context = execution_context.context if execution_context else None
        request_id = context.request_id if isinstance(context, Context) else ""
        format_errors(errors, request_id, hide_suggestions=self.hide_suggestions)


@lru_cache(maxsize=4)
def build_schema(
    *,
    production: bool = False,
    max_depth: int = 15,
    max_aliases: int = 30,
    max_tokens: int = 5000,
    max_cost: int = 10_000,
) -> strawberry.Schema:
    # The limit rules are built once: the validation cache keys on the rule classes, so a
    # fresh class per request would never hit.
    # Our own depth and alias rules: linear in the document (Strawberry's recurse through
    # fragment spreads: exponential for fragments spread twice, a stack overflow for chains).
    limit_rules: list[type[ASTValidationRule]] = [depth_rule(max_depth), alias_rule(max_aliases)]
    extensions: list[Any] = [
        lambda: ParserCache(maxsize=1024),
        DocumentGuard,
        lambda: AddValidationRules(limit_rules),
        lambda: ValidationCache(maxsize=1024),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        cost_limiter(max_cost),
        IdentityRequired,
        NoNulText,
        SessionLifecycle,
        CompiledReads,
    ]
    if production:
        extensions.append(DisableIntrospection)
    schema = AppSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[ErrorCode, *NODE_IMPLEMENTATIONS],
        extensions=extensions,
        execution_context_class=SharedEventExecutor,  # acyclic; live events executed once, shared
        config=StrawberryConfig(disable_field_suggestions=production),
    )
    schema.hide_suggestions = production  # for arguments, types, enum values and input fields
    return schema


def export_schema() -> str:
    """The SDL committed as ``schema.graphql``."""
    return build_schema().as_str() + "\n"


__all__ = ["AppError", "build_schema", "export_schema"]
