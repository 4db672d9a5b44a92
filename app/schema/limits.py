"""Depth and alias limits as validation rules, linear in the size of the document.

They follow fragment spreads the way the operation will be executed, but measure each
fragment once (see :mod:`app.schema.fragments`), so neither a chain of hundreds of
fragments nor fragments spread twice at every step can exhaust the stack or the CPU.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)

from app.schema.fragments import fragments_of, measure_fragments

SHOWN_COUNT_LIMIT = 1_000_000


def depth_rule(max_depth: int) -> type[ValidationRule]:
    """Refuse operations nesting object fields deeper than ``max_depth`` (fragments followed)."""

    class QueryDepthRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_args: Any) -> None:
            depths = measure_fragments(
                fragments_of(node),
                lambda fragment, known: selection_depth(fragment.selection_set, known),
            )
            for definition in node.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                if selection_depth(definition.selection_set, depths) > max_depth:
                    name = definition.name.value if definition.name else "anonymous"
                    self.report_error(
                        GraphQLError(
                            f"'{name}' exceeds maximum operation depth of {max_depth}",
                            definition,
                        )
                    )

    return QueryDepthRule


def alias_rule(max_aliases: int) -> type[ValidationRule]:
    """Refuse documents whose operations use more than ``max_aliases`` aliases, spreads expanded."""

    class MaxAliasesRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_args: Any) -> None:
            counts = measure_fragments(
                fragments_of(node),
                lambda fragment, known: alias_count(fragment.selection_set, known),
            )
            total = sum(
                alias_count(definition.selection_set, counts)
                for definition in node.definitions
                if isinstance(definition, OperationDefinitionNode)
            )
            if total > max_aliases:
                shown = f"over {SHOWN_COUNT_LIMIT}" if total > SHOWN_COUNT_LIMIT else str(total)
                self.report_error(GraphQLError(f"{shown} aliases found. Allowed: {max_aliases}"))

    return MaxAliasesRule


def selection_depth(selection_set: SelectionSetNode, fragments: dict[str, int]) -> int:
    """How many object fields deep ``selection_set`` goes; introspection fields count 0."""
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode):
            depth = fragments.get(selection.name.value, 0)
        elif isinstance(selection, InlineFragmentNode):
            depth = selection_depth(selection.selection_set, fragments)
        elif isinstance(selection, FieldNode) and selection.selection_set:
            if selection.name.value.startswith("__"):
                continue
            depth = 1 + selection_depth(selection.selection_set, fragments)
        else:
            continue
        deepest = max(deepest, depth)
    return deepest


def alias_count(selection_set: SelectionSetNode, fragments: dict[str, int]) -> int:
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode):
            total += fragments.get(selection.name.value, 0)
            continue
        if isinstance(selection, FieldNode) and selection.alias:
            total += 1
        if isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
            total += alias_count(selection.selection_set, fragments)
    return total
