"""Measuring a document's fragments once each, without recursing through spreads.

Depth, alias count and cost all need "what a fragment spread adds". Expanding spreads in
place costs time exponential in the number of fragments (a fragment spreading the next one
twice doubles the work at each step), and recursing through a chain of spreads overflows
the interpreter's stack. Instead each fragment is measured once, after every fragment it
spreads, and a spread reads the stored measure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)

T = TypeVar("T")
Measure = Callable[[FragmentDefinitionNode, dict[str, T]], T]


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


def spread_names(selection_set: SelectionSetNode) -> Iterator[str]:
    """Every fragment spread inside ``selection_set``, at any nesting (no recursion)."""
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                stack.append(selection.selection_set)


def dependency_order(fragments: dict[str, FragmentDefinitionNode]) -> list[str]:
    """Fragment names, each after the fragments it spreads.

    Unknown fragments and a spread that closes a cycle are left out: validation reports both,
    and a measure treats a fragment it cannot find as adding nothing.
    """
    spreads = {name: list(spread_names(f.selection_set)) for name, f in fragments.items()}
    order: list[str] = []
    done: set[str] = set()
    for root in fragments:
        path = [(root, iter(spreads[root]))]
        on_path = {root}
        while path and root not in done:
            name, pending = path[-1]
            child = next(
                (s for s in pending if s in spreads and s not in done and s not in on_path), None
            )
            if child is not None:
                path.append((child, iter(spreads[child])))
                on_path.add(child)
                continue
            path.pop()
            on_path.discard(name)
            done.add(name)
            order.append(name)
    return order


def measure_fragments(
    fragments: dict[str, FragmentDefinitionNode], measure: Measure[T]
) -> dict[str, T]:
    """``measure`` of each fragment; it may read the measures of the fragments it spreads."""
    measured: dict[str, T] = {}
    for name in dependency_order(fragments):
        measured[name] = measure(fragments[name], measured)
    return measured
