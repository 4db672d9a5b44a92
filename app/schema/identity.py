"""Anonymous operations that need an identity are refused before anything is looked up.

Every root field needs a signed-in caller except the few listed in :data:`PUBLIC_FIELDS`. The
check runs once per operation, after validation and before execution: an anonymous
``createClient`` answers UNAUTHENTICATED, never "Workspace not found", and runs no SQL.
Bad credentials answer with their own reason (expired, revoked...).
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
)
from strawberry.extensions import SchemaExtension

from app.schema.context import Context

PUBLIC_FIELDS = frozenset(
    {"__typename", "__schema", "__type", "viewer", "models", "health"}
    | {"register", "login", "refreshToken", "logout"}
)


def root_fields(document: DocumentNode, operation_name: str | None) -> set[str]:
    """The names of the root fields the chosen operation selects (through fragments)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    chosen = next(
        (
            o
            for o in operations
            if operation_name is None or (o.name and o.name.value == operation_name)
        ),
        None,
    )
    names: set[str] = set()
    seen: set[str] = set()
    stack = list(chosen.selection_set.selections) if chosen else []
    while stack:
        selection = stack.pop()
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            stack.extend(selection.selection_set.selections)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                stack.extend(fragment.selection_set.selections)
    return names


class IdentityRequired(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        context = execution.context
        if isinstance(context, Context) and execution.graphql_document is not None:
            sent_name = getattr(execution, "_provided_operation_name", None)
            if root_fields(execution.graphql_document, sent_name) - PUBLIC_FIELDS:
                context.actor  # noqa: B018 (raises UNAUTHENTICATED, with the reason)
        yield
