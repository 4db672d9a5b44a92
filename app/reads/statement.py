"""One statement being written: its parameters, table aliases and Python-side fields."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
)
from graphql.execution.collect_fields import FieldDetails, FragmentDetails, collect_subfields
from graphql.execution.values import VariableValues

from app.auth.actor import Actor
from app.reads.dialect import Dialect
from app.reads.post import Projection


class NotCompilable(Exception):
    """This selection is answered by the resolvers (unknown field, bad argument, @defer...)."""


@dataclass(frozen=True, slots=True)
class Request:
    """What every statement of one operation shares."""

    schema: GraphQLSchema
    dialect: Dialect
    fragments: dict[str, FragmentDetails]
    variables: VariableValues
    operation: OperationDefinitionNode
    actor: Actor | None
    arguments: Callable[[GraphQLField, FieldNode], dict[str, Any]]
    """A field's arguments as its resolver receives them (input types built)."""
    nonce: str = field(default_factory=lambda: secrets.token_hex(8))
    """Part of every slot placeholder, so no stored text can pass for one."""


@dataclass(frozen=True, slots=True)
class Slot:
    """A part answered by a statement of its own, for every parent at once.

    SQLite's parser refuses deeply nested statements, so there each list (a connection, a
    job's scenes) is written as a placeholder ``SLOT + "<n>:<parent id>"``; the slot's
    statement then answers every parent of that level in one go (``app.reads.stitch``).
    """

    statement: Statement
    sql: str


SLOT = "\x02"


@dataclass(slots=True)
class Statement:
    request: Request
    params: list[Any] = field(default_factory=list)
    projections: list[Projection] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    aliases: list[int] = field(default_factory=lambda: [0])
    _workspaces: str | None = None

    @property
    def splits(self) -> bool:
        """Whether lists become slots (SQLite) rather than nested subqueries."""
        return self.dialect.name == "sqlite"

    def child(self) -> Statement:
        """A statement of its own that shares this one's projections, slots and aliases."""
        return Statement(self.request, [], self.projections, self.slots, self.aliases)

    @property
    def dialect(self) -> Dialect:
        return self.request.dialect

    @property
    def actor(self) -> Actor:
        if self.request.actor is None:
            raise NotCompilable("no actor")
        return self.request.actor

    def bind(self, value: Any, cast: str | None = None) -> str:
        self.params.append(value)
        placeholder = self.dialect.param(len(self.params))
        if cast is not None and self.dialect.name == "postgresql":
            return f"CAST({placeholder} AS {cast})"
        return placeholder

    def bind_uuid(self, value: uuid.UUID) -> str:
        return self.bind(self.dialect.uuid_value(value), "uuid")

    def alias(self) -> str:
        self.aliases[0] += 1
        return f"t{self.aliases[0]}"

    def visible_workspaces(self, expr: str) -> str:
        """``expr`` (a workspace id) is one of the actor's workspaces: one parameter."""
        if self._workspaces is None:
            ids = sorted(self.actor.workspace_ids)
            self.params.append(self.dialect.uuid_list(ids))
            self._workspaces = str(len(self.params))
        return self.dialect.in_list(expr, int(self._workspaces), "uuid")

    def subfields(
        self, type_: GraphQLObjectType, details: list[FieldDetails]
    ) -> dict[str, list[FieldDetails]]:
        request = self.request
        collected = collect_subfields(
            request.schema,
            request.fragments,
            request.variables,
            request.operation,
            type_,
            details,
        )
        if collected.new_defer_usages:
            raise NotCompilable("@defer")
        return collected.grouped_field_set

    def object_type(self, name: str) -> GraphQLObjectType:
        found = self.request.schema.get_type(name)
        if not isinstance(found, GraphQLObjectType):
            raise NotCompilable(name)
        return found

    def project(self, projection: Projection) -> int:
        self.projections.append(projection)
        return len(self.projections) - 1
