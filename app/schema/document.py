"""The document's shape is checked before any validation rule walks it.

Validation rules (the depth limiter among them) follow fragment spreads recursively: a chain of
a few hundred fragments exhausts Python's stack. This guard measures the longest chain without
recursion and refuses chains deeper than :data:`MAX_FRAGMENT_DEPTH` and cycles, with a code.
A document with several operations must name the one to run (never "the first").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    Node,
    OperationDefinitionNode,
    StringValueNode,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension

from app.errors import ErrorCode

MAX_FRAGMENT_DEPTH = 30
NUL = "\x00"


def _spreads(node: Node) -> set[str]:
    """Names of the fragments spread anywhere under ``node`` (iteratively)."""
    names: set[str] = set()
    stack: list[Any] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, FragmentSpreadNode):
            names.add(current.name.value)
        selection_set = getattr(current, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)
    return names


def fragment_depth(document: DocumentNode) -> int | None:
    """The longest chain of fragment spreads, or None when the fragments form a cycle."""
    graph = {
        d.name.value: _spreads(d)
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    depth: dict[str, int] = {}
    for start, spreads in graph.items():
        if start in depth:
            continue
        # Iterative depth-first search; "visiting" marks the current path to find cycles.
        visiting: set[str] = set()
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(spreads))]
        visiting.add(start)
        while stack:
            name, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                visiting.discard(name)
                depth[name] = 1 + max(
                    (depth.get(c, 0) for c in graph[name] if c in graph), default=0
                )
            elif child in visiting:
                return None
            elif child in graph and child not in depth:
                visiting.add(child)
                stack.append((child, iter(graph[child])))
    return max(depth.values(), default=0)


class DocumentGuard(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        document = self.execution_context.graphql_document
        if document is not None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            # ``operation_name`` falls back to the first operation; what was sent is private.
            sent_name = getattr(self.execution_context, "_provided_operation_name", None)
            if len(operations) > 1 and not sent_name:
                raise GraphQLError(
                    "The document holds several operations: send `operationName`.",
                    extensions={"code": ErrorCode.BAD_REQUEST.value},
                )
            depth = fragment_depth(document)
            if depth is None:
                raise GraphQLError(
                    "Fragments must not spread each other in a cycle.",
                    extensions={"code": ErrorCode.GRAPHQL_VALIDATION_FAILED.value},
                )
            if depth > MAX_FRAGMENT_DEPTH:
                raise GraphQLError(
                    f"Fragments are nested {depth} deep; the limit is {MAX_FRAGMENT_DEPTH}.",
                    extensions={"code": ErrorCode.GRAPHQL_VALIDATION_FAILED.value},
                )
        yield


def nul_path(value: object, path: str) -> str | None:
    """Where a NUL character hides in ``value`` (JSON variables), iteratively; None if nowhere."""
    stack: list[tuple[object, str]] = [(value, path)]
    while stack:
        current, where = stack.pop()
        if isinstance(current, str):
            if NUL in current:
                return where
        elif isinstance(current, dict):
            stack.extend((v, f"{where}.{k}") for k, v in current.items())
            if any(NUL in str(k) for k in current):
                return where
        elif isinstance(current, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(current))
    return None


class _StringLiterals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_string_value(self, node: StringValueNode, *_: object) -> None:
        self.found = self.found or NUL in node.value


def _may_hold_nul(query: str) -> bool:
    return NUL in query or "\\u0000" in query


class NoNulText(SchemaExtension):
    """No text anywhere in an operation may hold a NUL character (PostgreSQL cannot store
    one, and no name, prompt or tag needs one): refused before any resolver runs."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        where = nul_path(execution.variables or {}, "variables")
        if where is None and _may_hold_nul(execution.query or ""):
            literals = _StringLiterals()
            if execution.graphql_document is not None:
                visit(execution.graphql_document, literals)
            where = "a string literal" if literals.found else None
        if where is not None:
            raise GraphQLError(
                f"Text must not contain NUL characters (found in {where}).",
                extensions={
                    "code": ErrorCode.BAD_USER_INPUT.value,
                    "fields": {where: "contains a NUL character"},
                },
            )
        yield
