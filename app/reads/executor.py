"""Answering a validated query with compiled statements, the resolvers taking the rest.

The extension runs after parsing, validation and every limit (depth, aliases, tokens, cost)
have passed. For each root field it tries the compiler; each compiled field is one statement
whose JSON goes into the response as it came from the database (``orjson.Fragment``), with
Python-side fields (signed links, reshaped JSON columns) filled in one pass. Root fields the
compiler does not cover, and those whose statement answered "not there" (so the resolvers'
error is the answer), run through graphql-core in the same response, in the same order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLField,
    OperationDefinitionNode,
    SelectionSetNode,
    execute,
    get_operation_ast,
)
from graphql.execution.collect_fields import FieldDetails, FragmentDetails, collect_fields
from graphql.execution.values import get_argument_values, get_variable_values
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.extensions import SchemaExtension
from strawberry.types.arguments import convert_arguments
from strawberry.types.graphql import OperationType

from app.reads import ReadStats
from app.reads.dialect import dialect_named
from app.reads.objects import FALLBACK
from app.reads.post import Finishing, finish
from app.reads.root import RootStatement, compile_root
from app.reads.statement import NotCompilable, Request
from app.reads.stitch import Run, fill
from app.schema.context import Context


class CompiledReads(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if (
            isinstance(context, Context)
            and context.settings.compiled_reads
            and context.raw_json
            and execution.operation_type is OperationType.QUERY
            and execution.graphql_document is not None
        ):
            result = await _answer(execution, context)
            if result is not None:
                execution.result = result
        yield


@dataclass(frozen=True, slots=True)
class Plan:
    """A query's root fields and the statements that answer the compilable ones."""

    document: DocumentNode
    operation: OperationDefinitionNode
    grouped: dict[str, list[FieldDetails]]
    compiled: list[RootStatement]


async def _answer(execution: Any, context: Context) -> ExecutionResult | None:
    plan = _cached_plan(execution, context)
    stats = _stats(context)
    if plan is None or not plan.compiled:
        stats.fallbacks += len(plan.grouped) if plan is not None else 0
        return None
    answers = await _run(context, plan.compiled)
    stats.served += len(answers)
    grouped = plan.grouped
    rest = [key for key in grouped if key not in answers]
    stats.fallbacks += len(rest)
    data: dict[str, Any] = {}
    errors: list[GraphQLError] | None = None
    if rest:
        resolved = await _resolve(execution, plan.document, plan.operation, grouped, rest)
        if resolved.data is None:
            return resolved
        data, errors = resolved.data, resolved.errors
    return ExecutionResult({k: answers[k] if k in answers else data[k] for k in grouped}, errors)


def _cached_plan(execution: Any, context: Context) -> Plan | None:
    """The plan of this document, operation, dialect, variables and actor; compiled once."""
    actor = context.maybe_actor
    try:
        variables = orjson.dumps(execution.variables or {}, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return _plan(execution, context)
    who = None if actor is None else (actor.user_id, tuple(sorted(actor.roles.items())))
    key = (execution.query, execution.operation_name, context.settings.is_sqlite, variables, who)
    plans = _stats(context).plans
    found = plans.get(key)
    if isinstance(found, Plan):
        return found
    plan = _plan(execution, context)
    if plan is not None:
        plans.put(key, plan)
    return plan


def _plan(execution: Any, context: Context) -> Plan | None:
    schema = execution.schema._schema
    document: DocumentNode = execution.graphql_document
    operation = get_operation_ast(document, execution.operation_name)
    if operation is None:
        return None
    fragments = {
        d.name.value: FragmentDetails(d)
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    variables = get_variable_values(
        schema, operation.variable_definitions or (), execution.variables or {}, max_errors=1
    )
    if isinstance(variables, list):
        return None  # graphql-core reports them
    collected = collect_fields(schema, fragments, variables, schema.query_type, operation)
    if collected.new_defer_usages:
        return None
    dialect = dialect_named("sqlite" if context.settings.is_sqlite else "postgresql")
    arguments = _arguments(execution.schema, variables)
    request = Request(
        schema, dialect, fragments, variables, operation, context.maybe_actor, arguments
    )
    grouped = collected.grouped_field_set
    return Plan(document, operation, grouped, _compile(request, grouped, schema.query_type.fields))


def _arguments(strawberry_schema: Any, variables: Any) -> Any:
    registry = strawberry_schema.schema_converter.scalar_registry
    config = strawberry_schema.config

    def arguments(field: GraphQLField, node: FieldNode) -> dict[str, Any]:
        raw = get_argument_values(field, node, variables)
        definition = field.extensions.get("strawberry-definition")
        if definition is None:
            return raw
        return convert_arguments(raw, definition.arguments, registry, config)

    return arguments


def _compile(
    request: Request, grouped: dict[str, list[FieldDetails]], fields: dict[str, Any]
) -> list[RootStatement]:
    compiled = []
    for key, details in grouped.items():
        field = fields.get(details[0].node.name.value)
        if field is None:
            continue
        try:
            compiled.append(compile_root(request, key, field, details))
        except NotCompilable:
            continue
    return compiled


def _stats(context: Context) -> ReadStats:
    return context.runtime.reads


async def _run(context: Context, compiled: list[RootStatement]) -> dict[str, Any]:
    """Each statement's answer, keyed by response key; missing: the resolvers answer it."""
    answers: dict[str, Any] = {}
    for root in compiled:
        if root.sql is None:
            answers[root.key] = None
            continue
        run = _runner(await context.session.connection())
        try:
            answers[root.key] = await _answer_of(context, root, run)
        except _Missing:
            continue
    return answers


def _runner(connection: AsyncConnection) -> Run:
    async def run(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        named = {f"p{i}": value for i, value in enumerate(params, start=1)}
        rows = [tuple(row) for row in await connection.execute(sa.text(sql), named)]
        if any(isinstance(v, str) and FALLBACK in v for row in rows for v in row):
            raise _Missing
        return rows

    return run


class _Missing(Exception):
    """The resolvers answer this root field (it holds something they report as an error)."""


async def _answer_of(context: Context, root: RootStatement, run: Run) -> Any:
    assert root.sql is not None
    text = (await run(root.sql, root.statement.params))[0][0]
    if text is None:
        if root.required:
            raise _Missing
        return None
    statement = root.statement
    if statement.slots:
        text = await fill(text, statement.slots, statement.request.nonce, run)
    raw = text.encode()
    if not statement.projections and not root.each_required:
        return orjson.Fragment(raw)
    value = orjson.loads(raw)
    if root.each_required and None in value:
        raise _Missing
    if statement.projections:
        runtime = context.runtime
        finishing = Finishing(runtime.links, runtime.clock.now())
        value = finish(value, statement.projections, finishing)
    return value


async def _resolve(
    execution: Any,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    grouped: dict[str, list[FieldDetails]],
    keys: list[str],
) -> ExecutionResult:
    """The root fields ``keys`` through graphql-core, as the schema would run them."""
    nodes = tuple(details.node for key in keys for details in grouped[key])
    reduced = OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=operation.variable_definitions,
        directives=operation.directives,
        selection_set=SelectionSetNode(selections=nodes),
    )
    others = tuple(d for d in document.definitions if isinstance(d, FragmentDefinitionNode))
    result = execute(
        execution.schema._schema,
        DocumentNode(definitions=(reduced, *others)),
        root_value=execution.root_value,
        context_value=execution.context,
        variable_values=execution.variables,
        operation_name=execution.operation_name,
        executor_class=execution.schema.execution_context_class,
    )
    if not isinstance(result, ExecutionResult):
        result = await result
    return result
