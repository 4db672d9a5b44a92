"""Query cost: what an operation may cost, worked out from the document before anything runs.

Every field that returns an object costs 1; scalars and enums are free. A list multiplies the
cost of what is under it by its size: a connection's ``edges``/``nodes`` by the page asked for
(``first``/``last``, or the default page size), ``nodes(ids:)`` by the number of ids, and any
other list by :data:`LIST_ESTIMATE`. Fragments are costed where they are spread, so cycles such
as ``campaigns → client → campaigns`` multiply as they would when executed. Operations above
the limit are refused with ``QUERY_TOO_COMPLEX`` and ``extensions.cost {requested, limit}``;
accepted ones that cost anything report it in the response's ``extensions.cost``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
)
from graphql.language import ValueNode
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from app.errors import ErrorCode
from app.pagination import DEFAULT_PAGE_SIZE

LIST_ESTIMATE = DEFAULT_PAGE_SIZE
PAGE_ARGUMENTS = ("first", "last")


class CostCalculator:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        limit: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.limit = limit
        self._memo: dict[tuple[str, str, int | None], int] = {}

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0
        return self.selections(operation.selection_set, root, None)

    def selections(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, hint: int | None
    ) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            total += self._selection(selection, parent, hint)
            if total > self.limit:  # enough to refuse: stop before the numbers explode
                break
        return total

    def _selection(self, selection: Any, parent: GraphQLNamedType, hint: int | None) -> int:
        if isinstance(selection, FieldNode):
            return self.field(selection, parent, hint)
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            owner = self.schema.get_type(condition.name.value) if condition else parent
            return self.selections(selection.selection_set, owner or parent, hint)
        if isinstance(selection, FragmentSpreadNode):
            return self._fragment(selection.name.value, parent, hint)
        return 0

    def _fragment(self, name: str, parent: GraphQLNamedType, hint: int | None) -> int:
        """A fragment costs the same wherever it is spread with the same page hint."""
        fragment = self.fragments.get(name)
        if fragment is None:
            return 0
        key = (name, parent.name, hint)
        if key not in self._memo:
            owner = self.schema.get_type(fragment.type_condition.name.value) or parent
            self._memo[key] = self.selections(fragment.selection_set, owner, hint)
        return self._memo[key]

    def field(self, node: FieldNode, owner: GraphQLNamedType, hint: int | None) -> int:
        definition: GraphQLField | None = getattr(owner, "fields", {}).get(node.name.value)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return 0
        arguments = {argument.name.value: argument.value for argument in node.arguments or ()}
        size = 1
        if is_list_type(get_nullable_type(definition.type)):
            size = self._list_size(arguments, hint)
        page = self._page_size(definition, arguments)
        return size * (1 + self.selections(node.selection_set, named, page))

    def _list_size(self, arguments: Mapping[str, ValueNode], hint: int | None) -> int:
        if "ids" in arguments:
            ids = self._value(arguments["ids"])
            return len(ids) if isinstance(ids, list) else LIST_ESTIMATE
        return hint if hint is not None else LIST_ESTIMATE

    def _page_size(
        self, definition: GraphQLField, arguments: Mapping[str, ValueNode]
    ) -> int | None:
        if not any(name in definition.args for name in PAGE_ARGUMENTS):
            return None
        for name in PAGE_ARGUMENTS:
            value = self._value(arguments[name]) if name in arguments else None
            if isinstance(value, int) and not isinstance(value, bool):
                return max(value, 0)
        return DEFAULT_PAGE_SIZE

    def _value(self, node: ValueNode) -> Any:
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        if isinstance(node, IntValueNode):
            return int(node.value)
        if isinstance(node, ListValueNode):
            return list(node.values)
        return None


def operation_cost(
    schema: GraphQLSchema,
    document: Any,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    limit: int,
) -> int:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        o
        for o in operations
        if operation_name is None or (o.name and o.name.value == operation_name)
    ]
    if not chosen:
        return 0
    safe_variables = variables if isinstance(variables, Mapping) else {}
    return CostCalculator(schema, fragments, safe_variables, limit).operation(chosen[0])


class QueryCostLimiter(SchemaExtension):
    """Refuse operations above ``limit`` before they execute; report the cost of the others."""

    limit = 0  # set by :func:`cost_limiter`

    def __init__(self) -> None:
        self.cost: int | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            self.cost = operation_cost(
                context.schema._schema,
                context.graphql_document,
                context.operation_name,
                context.variables,
                self.limit,
            )
            if self.cost > self.limit:
                raise GraphQLError(
                    f"This operation would cost {self.cost}, above the limit of {self.limit}:"
                    " ask for smaller pages or fewer nested lists.",
                    extensions={
                        "code": ErrorCode.QUERY_TOO_COMPLEX.value,
                        "cost": {"requested": self.cost, "limit": self.limit},
                    },
                )
        yield

    def get_results(self) -> dict[str, Any]:
        if not self.cost or self.cost > self.limit:  # nothing to report for free operations
            return {}
        if self.execution_context.operation_type is OperationType.SUBSCRIPTION:
            return {}  # checked once at the start; not repeated on every event
        return {"cost": {"requested": self.cost, "limit": self.limit}}


def cost_limiter(limit: int) -> type[QueryCostLimiter]:
    return type("QueryCostLimiter", (QueryCostLimiter,), {"limit": limit})
