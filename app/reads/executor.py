"""Answering a validated query with compiled statements, the resolvers taking the rest.

The extension runs after parsing, validation and every limit (depth, aliases, tokens, cost)
have passed. For each root field it tries the compiler; each compiled field is one statement
whose JSON goes into the response as it came from the database (``orjson.Fragment``), with
Python-side fields (signed links, reshaped JSON columns) filled in one pass. Root fields the
compiler does not cover, and those whose statement answered "not there" (so the resolvers'
error is the answer), run through graphql-core in the same response, in the same order.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
import sqlalchemy as sa
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
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

from app.reads import PLAN_CACHE_SIZE, ReadStats
from app.reads.dialect import dialect_named
from app.reads.objects import FALLBACK
from app.reads.post import Finishing, finish
from app.reads.root import RootStatement, compile_root
from app.reads.statement import NotCompilable, Request, Statement
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


@dataclass(frozen=True, slots=True)
class Ready:
    """A plan whose statements answered every root field: the same request can be answered
    from it without parsing, validating or executing the document again."""

    compiled: list[RootStatement]
    keys: list[str]
    extensions: dict[str, Any] | None = None  # the reply's, as the whole way gave them


async def _answer(execution: Any, context: Context) -> ExecutionResult | None:
    key = _plan_key(execution, context)
    plan = _cached_plan(key, execution, context)
    stats = _stats(context)
    if plan is None or not plan.compiled:
        stats.fallbacks += len(plan.grouped) if plan is not None else 0
        return None
    answers = await _run(context, plan.compiled)
    stats.served += len(answers)
    grouped = plan.grouped
    rest = [key for key in grouped if key not in answers]
    stats.fallbacks += len(rest)
    if not rest:
        if key is not None:
            context.ready = (key, Ready(plan.compiled, list(grouped)))
        return ExecutionResult({k: answers[k] for k in grouped}, None)
    resolved = await _resolve(execution, plan.document, plan.operation, grouped, rest)
    if resolved.data is None:
        return resolved
    data = resolved.data
    return ExecutionResult(
        {k: answers[k] if k in answers else data[k] for k in grouped}, resolved.errors
    )


def plan_key(
    context: Context, query: str, operation_name: str | None, variables: Any
) -> Hashable | None:
    """What a plan depends on: the document, the operation asked for (as sent), the dialect,
    the variables and the actor's identity and roles. None: the variables are not JSON."""
    actor = context.maybe_actor
    try:
        values = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    who = None if actor is None else (actor.user_id, tuple(sorted(actor.roles.items())))
    return (query, operation_name, context.settings.is_sqlite, values, who)


def _plan_key(execution: Any, context: Context) -> Hashable | None:
    sent = getattr(execution, "_provided_operation_name", None)
    return plan_key(context, execution.query, sent, execution.variables)


def _cached_plan(key: Hashable | None, execution: Any, context: Context) -> Plan | None:
    """The plan under ``key``, compiled once."""
    if key is None:
        return _plan(execution, context)
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
        name = details[0].node.name.value
        if name == "__typename":
            typename = request.schema.query_type.name if request.schema.query_type else "Query"
            compiled.append(RootStatement(key, Statement(request), None, value=typename))
            continue
        field = fields.get(name)
        if field is None:
            continue
        try:
            compiled.append(compile_root(request, key, field, details))
        except NotCompilable:
            continue
    return compiled


def _stats(context: Context) -> ReadStats:
    return context.runtime.reads


Connect = Callable[[], Awaitable[Run]]
"""How statements run, asked for when the first one runs."""


async def _run(
    context: Context, compiled: list[RootStatement], connect: Connect | None = None
) -> dict[str, Any]:
    """Each statement's answer, keyed by response key; missing: the resolvers answer it.
    The statements run on the operation's session unless ``connect`` gives a connection."""
    answers: dict[str, Any] = {}
    for root in compiled:
        if root.sql is None:
            answers[root.key] = root.value
            continue
        run = await connect() if connect else _runner(await context.session.connection())
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


def driver_runner(driver: Any, stats: ReadStats) -> Run:
    """Statements straight on an asyncpg connection: ``$n`` placeholders, no transaction of
    SQLAlchemy's (PostgreSQL reads committed data statement by statement either way)."""

    async def run(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        numbered = _numbered(sql)
        for listener in stats.sent:
            listener(numbered)
        rows = [tuple(row) for row in await driver.fetch(numbered, *params)]
        if any(isinstance(v, str) and FALLBACK in v for row in rows for v in row):
            raise _Missing
        return rows

    return run


_NAMED = re.compile(r"(?<![:\w]):p(\d+)\b")


@lru_cache(maxsize=PLAN_CACHE_SIZE)
def _numbered(sql: str) -> str:
    """``:p1`` placeholders (SQLAlchemy's) as ``$1`` (PostgreSQL's)."""
    return _NAMED.sub(r"$\1", sql)


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


async def answer_ready(
    context: Context, ready: Ready, connect: Connect | None = None
) -> dict[str, Any] | None:
    """Every root field of a ready plan from its statements, or None when one of them needs
    the resolvers after all (its answer is an error they report)."""
    answers = await _run(context, ready.compiled, connect)
    if len(answers) < len(ready.keys):
        return None
    _stats(context).served += len(answers)
    return {key: answers[key] for key in ready.keys}
