"""Argument values for generated operations, written as literals or passed as variables.

Ids come from the dataset: mostly visible ones of the expected type, but also another
workspace's, deleted rows', random ones, ones of the wrong type and malformed strings.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    get_named_type,
    get_nullable_type,
    is_list_type,
)

from app.ids import encode_global_id
from tests.read_ops.dataset import Dataset

NODE_TYPES = ["Workspace", "Client", "Campaign", "Asset", "Generation", "Job", "Scene"]
NODE_TYPES += ["Membership", "Invitation", "User", "ApiKey"]
MALFORMED_IDS = ["", "nope", "Q2xpZW50Onh5eg", "%%%", base64.b64encode(b"Client:").decode()]
BAD_CURSORS = ["", "not-a-cursor", "WyJuYW1lIiwxLCJ4Il0", "bnVsbA"]
SEARCHES = ["Acme", "acme", "client 1", "%", "_", "North", "zz", ""]


class Enum(str):
    """An enum value: bare in a literal, a string in variables."""

    __slots__ = ()


@dataclass
class Builder:
    """The variables and statistics of one operation being written."""

    rng: random.Random
    data: Dataset
    stats: Counter[str]
    definitions: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    aliases: int = 0

    def alias(self, name: str) -> str:
        self.aliases += 1
        return f"{name}{self.aliases}"

    def argument(self, name: str, argument: GraphQLArgument, value: Any) -> str:
        """``name: value``, the value inline or as a new variable of the argument's type."""
        if self.rng.random() < 0.5:
            self.stats["arg:literal"] += 1
            return f"{name}: {literal(value)}"
        self.stats["arg:variable"] += 1
        variable = f"v{len(self.definitions)}"
        self.definitions.append(f"${variable}: {argument.type}")
        self.variables[variable] = plain(value)
        return f"{name}: ${variable}"

    def node_id(self, type_name: str | None = None) -> str:
        """A global id for ``type_name`` (any node type if None), not always a visible one."""
        wanted = type_name or self.rng.choice(NODE_TYPES)
        roll = self.rng.random()
        kind, pool = "visible", self.data.visible.get(wanted, [])
        if roll < 0.12:
            kind, pool = "foreign", self.data.foreign.get(wanted, [])
        elif roll < 0.22:
            kind, pool = "deleted", self.data.deleted.get(wanted, [])
        elif roll < 0.27:
            kind, pool = (
                "random",
                [encode_global_id(wanted, uuid.UUID(int=self.rng.getrandbits(128)))],
            )
        elif roll < 0.31:
            kind, pool = "malformed", MALFORMED_IDS
        elif roll < 0.38:
            kind, other = "wrong-type", self.rng.choice(NODE_TYPES)
            pool = self.data.visible.get(other, [])
        if not pool:
            kind, pool = "visible", self.data.visible.get(wanted) or self.data.visible["Client"]
        self.stats[f"id:{kind}"] += 1
        return str(self.rng.choice(pool))


def literal(value: Any) -> str:
    if isinstance(value, Enum):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"


def plain(value: Any) -> Any:
    """The JSON of a value for ``variables`` (enums as their names)."""
    if isinstance(value, Enum):
        return str(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def page_arguments(b: Builder, cursors: list[str]) -> dict[str, Any]:
    """``first``/``last``/``after``/``before``: ordinary pages mostly, some invalid ones."""
    roll = b.rng.random()
    size = b.rng.choice([1, 2, 3, 5])
    cursor = b.rng.choice(cursors) if cursors else b.rng.choice(BAD_CURSORS)
    for threshold, kind, arguments in (
        (0.15, "default", {}),
        (0.45, "first", {"first": size}),
        (0.60, "last", {"last": size}),
        (0.68, "first+after", {"first": size, "after": cursor}),
        (0.74, "last+before", {"last": size, "before": cursor}),
        (0.79, "first:0", {"first": 0}),
        (0.83, "first:101", {"first": 101}),
        (0.86, "last:-1", {"last": -1}),
        (0.89, "first+last", {"first": 2, "last": 2}),
        (0.94, "bad-cursor", {"first": size, "after": b.rng.choice(BAD_CURSORS)}),
        (1.00, "null-first", {"first": None, "before": None}),
    ):
        if roll < threshold:
            b.stats[f"page:{kind}"] += 1
            return arguments
    raise AssertionError("unreachable")


def order_argument(b: Builder) -> dict[str, Any] | None:
    roll = b.rng.random()
    if roll < 0.3:
        b.stats["order:none"] += 1
        return None
    if roll < 0.35:
        b.stats["order:{}"] += 1
        return {}
    fields, directions = ["CREATED_AT", "UPDATED_AT", "NAME"], ["ASC", "DESC"]
    order = {"field": Enum(b.rng.choice(fields)), "direction": Enum(b.rng.choice(directions))}
    b.stats[f"order:{order['field']}:{order['direction']}"] += 1
    return order


def filter_argument(b: Builder, input_type: GraphQLInputObjectType) -> dict[str, Any] | None:
    """None, or some of the filter's conditions (each drawn from the dataset)."""
    if b.rng.random() < 0.35:
        return None
    values: dict[str, Any] = {}
    for name, input_field in input_type.fields.items():
        if b.rng.random() < 0.4:
            values[name] = _filter_value(b, name, input_field.type)
            b.stats[f"filter:{input_type.name}.{name}"] += 1
    return values


def _filter_value(b: Builder, name: str, field_type: GraphQLInputType) -> Any:
    if name == "clientId":
        return b.node_id("Client")
    if name == "campaignId":
        return b.node_id("Campaign")
    if name == "search":
        return b.rng.choice(SEARCHES)
    if name == "tag":
        return b.rng.choice(b.data.tags)
    if name == "model":
        return b.rng.choice([*b.data.models, "no/such-model"])
    named = get_named_type(field_type)
    assert isinstance(named, GraphQLEnumType), f"no values for filter field {name}"
    members = [Enum(value) for value in named.values]
    if not is_list_type(get_nullable_type(field_type)):
        return b.rng.choice(members)
    # 0-3 members; an empty list asks for no condition.
    return b.rng.sample(members, b.rng.randint(0, min(3, len(members))))
