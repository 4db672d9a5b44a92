"""Selection sets drawn from the schema itself (graphql-core's view of ``app.schema``).

Object types get a random subset of their fields; abstract ones (``Node``, ``Asset``) get
their common fields plus inline fragments on some of their types and, now and then, a named
fragment. Fields with arguments always get an alias of their own, so that two of them never
collide when selections merge.
"""

from __future__ import annotations

from graphql import (
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    get_named_type,
    is_leaf_type,
)

from app.schema import build_schema
from tests.read_ops.values import Builder, filter_argument, order_argument, page_arguments

SCHEMA = build_schema()._schema
# Connections nest at most this deep, so that a page of pages stays under the cost limit.
MAX_CONNECTIONS = 2


class Selector:
    """Writes the selection sets of one operation (its fragments included)."""

    def __init__(self, builder: Builder, cursors: list[str]) -> None:
        self.b = builder
        self.cursors = cursors
        self.fragments: list[str] = []
        self.connections = 0
        self.prefer: str | None = None  # the type of the id just asked for, to select on it

    def select(self, type_name: str, depth: int) -> str:
        named = SCHEMA.get_type(type_name)
        assert isinstance(named, GraphQLObjectType | GraphQLInterfaceType), type_name
        self.b.stats[f"type:{type_name}"] += 1
        parts = self._fields(named, depth)
        if isinstance(named, GraphQLInterfaceType):
            parts += self._fragments(named, depth)
        elif self.b.rng.random() < 0.08:
            parts.append(self._named_fragment(named, depth))
        if self.b.rng.random() < 0.3 or not parts:
            self.b.stats["__typename"] += 1
            parts.insert(self.b.rng.randrange(len(parts) + 1), "__typename")
        return "{ " + " ".join(parts) + " }"

    def _fields(self, named: GraphQLObjectType | GraphQLInterfaceType, depth: int) -> list[str]:
        """A few leaves and, while depth lasts, zero to two object fields (in random order)."""
        rng = self.b.rng
        leaves = [n for n, f in named.fields.items() if is_leaf_type(get_named_type(f.type))]
        objects = [n for n, f in named.fields.items() if n not in leaves]
        chosen = rng.sample(leaves, min(len(leaves), rng.randint(1, 3)))
        if depth > 0 and objects:
            wanted = (
                rng.randint(1, 2) if named.name.endswith("Connection") else rng.choice([0, 1, 1, 2])
            )
            chosen += rng.sample(objects, min(len(objects), wanted))
        rng.shuffle(chosen)
        parts = []
        for name in chosen:
            if name in leaves:
                parts.append(self._leaf(name))
            elif selected := self._object(name, named.fields[name], depth):
                parts.append(selected)
        return parts

    def _leaf(self, name: str) -> str:
        if self.b.rng.random() < 0.1:
            self.b.stats["alias"] += 1
            return f"{self.b.alias(name)}: {name}"
        return name

    def _object(self, name: str, field: GraphQLField, depth: int) -> str:
        target = get_named_type(field.type)
        connection = target.name.endswith("Connection")
        if connection and self.connections >= MAX_CONNECTIONS:
            return ""
        arguments = self._arguments(field, connection)
        self.connections += connection
        body = self.select(target.name, depth - 1)
        self.connections -= connection
        self.b.stats[f"field:{name}"] += 1
        if field.args:
            head = f"{self.b.alias(name)}: {name}"
            return f"{head}({', '.join(arguments)}) {body}" if arguments else f"{head} {body}"
        if self.b.rng.random() < 0.1:
            self.b.stats["alias"] += 1
            return f"{self.b.alias(name)}: {name} {body}"
        return f"{name} {body}"

    def _arguments(self, field: GraphQLField, connection: bool) -> list[str]:
        if not connection:
            return []
        values = page_arguments(self.b, self.cursors)
        filter_arg = field.args.get("filter")
        if filter_arg is not None:
            filter_type = get_named_type(filter_arg.type)
            assert isinstance(filter_type, GraphQLInputObjectType)
            values["filter"] = filter_argument(self.b, filter_type)
        if "orderBy" in field.args:
            values["orderBy"] = order_argument(self.b)
        return [
            self.b.argument(name, field.args[name], value)
            for name, value in values.items()
            if value is not None or self.b.rng.random() < 0.3  # an explicit null now and then
        ]

    def _fragments(self, named: GraphQLInterfaceType, depth: int) -> list[str]:
        possible: list[GraphQLObjectType | GraphQLInterfaceType] = list(
            SCHEMA.get_possible_types(named)
        )
        chosen = self.b.rng.sample(possible, min(len(possible), self.b.rng.choice([0, 1, 1, 2])))
        preferred = SCHEMA.get_type(self.prefer) if self.prefer else None
        self.prefer = None
        if isinstance(preferred, GraphQLObjectType | GraphQLInterfaceType):
            chosen = [c for c in chosen if c is not preferred]
            chosen.insert(self.b.rng.randrange(len(chosen) + 1), preferred)
        parts = []
        for concrete in chosen:
            self.b.stats[f"on:{concrete.name}"] += 1
            if concrete.name == "Asset":
                parts.append(self._named_fragment(concrete, depth))
                continue
            if self.b.rng.random() < 0.2:
                parts.append(self._named_fragment(concrete, depth))
            else:
                parts.append(f"... on {concrete.name} {self.select(concrete.name, depth)}")
        if named.name == "Node" and self.b.rng.random() < 0.15:  # a fragment on an interface
            parts.append(self._named_fragment(SCHEMA.get_type("Asset"), depth))  # type: ignore[arg-type]
        return parts

    def _named_fragment(self, named: GraphQLObjectType | GraphQLInterfaceType, depth: int) -> str:
        name = f"F{len(self.fragments)}{named.name}"
        self.fragments.append("")  # reserve the name before nested fragments take theirs
        index = len(self.fragments) - 1
        self.fragments[index] = f"fragment {name} on {named.name} {self.select(named.name, depth)}"
        self.b.stats["named-fragment"] += 1
        return f"...{name}"
