"""A seeded generator of read operations over the schema, every one valid GraphQL.

Each operation mixes one to three root fields: ``node``, ``nodes``, ``viewer`` and
``generation`` (which the compiled path covers) with, now and then, ``models``, ``health`` or
``apiKeys`` (which stay with the resolvers). Paging chains are separate: one document sent
again and again with the cursors of the previous answer, at both ends of the list.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLObjectType,
    OverlappingFieldsCanBeMergedRule,
    get_named_type,
    parse,
    validate,
)

from app.settings import Settings
from tests.read_ops.dataset import Dataset
from tests.read_ops.selections import SCHEMA, Selector
from tests.read_ops.values import NODE_TYPES, Builder, filter_argument, order_argument, plain

# The one rule a drawn operation may break (fields of one name that cannot merge); it is
# redrawn then. The server validates every operation in full: an answer with
# GRAPHQL_VALIDATION_FAILED fails the test as a fault of the generator.
MERGE_RULE = [OverlappingFieldsCanBeMergedRule]
MAX_ALIASES = Settings.model_fields["max_query_aliases"].default  # the app refuses more
COMPILABLE_ROOTS = frozenset({"node", "nodes", "viewer", "generation"})
OTHER_ROOTS = {
    "models": "{ id kind available simulated price { basis unit amount { amount currency } } }",
    "health": "{ database migrationsAtHead }",
    "apiKeys": "{ id name scope }",
}
NODE_DEPTH = 3
# Connections a paging chain walks: parent type -> its connection fields.
PAGED = {
    "Workspace": ["clients", "assets", "generations", "jobs", "members"],
    "Client": ["campaigns", "assets", "generations", "jobs"],
    "Campaign": ["assets", "generations", "jobs"],
}


@dataclass
class Operation:
    name: str
    query: str
    variables: dict[str, Any]
    roots: list[str]  # root field names, in order
    paging: tuple[str, int] | None = None  # (response key under node, page size) of a chain

    def describe(self, variables: dict[str, Any] | None = None) -> str:
        """The operation as sent, to run again by hand."""
        sent = self.variables if variables is None else variables
        return f"{self.name}\n{self.query}\nvariables: {json.dumps(sent)}"


@dataclass
class Generator:
    data: Dataset
    seed: int
    stats: Counter[str] = field(default_factory=Counter)
    count: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def operation(self, cursors: list[str]) -> Operation:
        """The next operation; cursors seen so far may be used as ``after``/``before``."""
        self.count += 1
        for _attempt in range(20):
            stats: Counter[str] = Counter()
            operation, aliases = self._draw(f"Op{self.count}", cursors, stats)
            errors = validate(SCHEMA, parse(operation.query), MERGE_RULE)
            if not errors and aliases <= MAX_ALIASES:
                self.stats.update(stats)
                return operation
            self.stats["redrawn (invalid)"] += 1
        raise AssertionError(f"no valid operation: {errors}\n{operation.query}")

    def _draw(self, name: str, cursors: list[str], stats: Counter[str]) -> tuple[Operation, int]:
        b = Builder(self.rng, self.data, stats)
        selector = Selector(b, cursors)
        roots = self._roots()
        fields = [self._root(root, b, selector) for root in roots]
        for root in roots:
            stats[f"root:{root}"] += 1
        if len(roots) > 1:
            stats[f"roots:{len(roots)}"] += 1
        head = f"query {name}" + (f"({', '.join(b.definitions)})" if b.definitions else "")
        query = "\n".join([head + " { " + " ".join(fields) + " }", *selector.fragments])
        return Operation(name, query, b.variables, roots), b.aliases

    def _roots(self) -> list[str]:
        weights = {"node": 5, "nodes": 2, "viewer": 2, "generation": 1.5}
        roots = self.rng.choices(
            list(weights), list(weights.values()), k=self.rng.choice([1, 1, 2, 3])
        )
        if self.rng.random() < 0.15:
            roots.insert(self.rng.randrange(len(roots) + 1), self.rng.choice(list(OTHER_ROOTS)))
        return roots

    def _root(self, root: str, b: Builder, selector: Selector) -> str:
        alias = (
            f"{b.alias(root)}: " if b.rng.random() < 0.5 or root in {"node", "generation"} else ""
        )
        query_field = SCHEMA.query_type.fields[root]  # type: ignore[union-attr]
        if root in OTHER_ROOTS:
            return f"{alias}{root} {OTHER_ROOTS[root]}"
        if root == "viewer":
            return f"{alias}viewer {selector.select('User', NODE_DEPTH)}"
        if root == "nodes":
            ids = [b.node_id() for _ in range(b.rng.randint(0, 4))]
            argument = b.argument("ids", query_field.args["ids"], ids)
            return f"{alias}nodes({argument}) {selector.select('Node', NODE_DEPTH - 1)}"
        if root == "generation":
            argument = b.argument("id", query_field.args["id"], b.node_id("Generation"))
            return f"{alias}generation({argument}) {selector.select('Generation', NODE_DEPTH)}"
        wanted = b.rng.choice(NODE_TYPES)
        argument = b.argument("id", query_field.args["id"], b.node_id(wanted))
        selector.prefer = wanted
        return f"{alias}node({argument}) {selector.select('Node', NODE_DEPTH)}"

    def paging(self) -> Operation:
        """The first request of a paging chain over one visible parent's connection."""
        self.count += 1
        b = Builder(self.rng, self.data, self.stats)
        parent = self.rng.choice(list(PAGED))
        connection = self.rng.choice(PAGED[parent])
        self.stats[f"chain:{parent}.{connection}"] += 1
        parent_field, node_type = _connection(parent, connection)
        size = self.rng.choice([1, 2, 3])
        variables: dict[str, Any] = {"id": self.rng.choice(self.data.visible[parent])}
        variables["first" if self.rng.random() < 0.5 else "last"] = size
        definitions = ["$id: ID!", "$first: Int", "$after: String", "$last: Int", "$before: String"]
        arguments = "first: $first, after: $after, last: $last, before: $before"
        filter_arg = parent_field.args.get("filter")
        if filter_arg is not None:
            filter_type = get_named_type(filter_arg.type)
            assert isinstance(filter_type, GraphQLInputObjectType)
            variables["filter"] = plain(filter_argument(b, filter_type))
            definitions.append(f"$filter: {filter_type.name}")
            arguments += ", filter: $filter"
        if "orderBy" in parent_field.args:
            variables["order"] = plain(order_argument(b))
            definitions.append("$order: Order")
            arguments += ", orderBy: $order"
        selector = Selector(b, [])
        selector.connections = 1
        page = (
            "{ totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
            f" edges {{ cursor node {selector.select(node_type, 1)} }} }}"
        )
        name = f"Page{self.count}"
        variables.update(b.variables)
        query = (
            f"query {name}({', '.join(definitions + b.definitions)}) {{ node(id: $id) {{"
            f" __typename ... on {parent} {{ page: {connection}({arguments}) {page} }} }} }}"
        )
        query = "\n".join([query, *selector.fragments])
        assert not validate(SCHEMA, parse(query), MERGE_RULE), query
        return Operation(name, query, variables, ["node"], paging=("page", size))


def _connection(parent: str, connection: str) -> tuple[GraphQLField, str]:
    """The connection field of ``parent`` and the name of the type its edges hold."""
    parent_type = SCHEMA.get_type(parent)
    assert isinstance(parent_type, GraphQLObjectType)
    field = parent_type.fields[connection]
    connection_type = get_named_type(field.type)
    assert isinstance(connection_type, GraphQLObjectType)
    edge_type = get_named_type(connection_type.fields["edges"].type)
    assert isinstance(edge_type, GraphQLObjectType)
    return field, get_named_type(edge_type.fields["node"].type).name
