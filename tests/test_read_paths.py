"""The compiled read path answers exactly what the resolvers answer, on SQLite and PostgreSQL.

Hundreds of operations generated from the schema (seeded, so a failure reproduces) go through
two apps on one seeded database: one with ``compiled_reads`` off (the reference) and one with
it on. Data, errors and the order of every key must be the same. Paging chains walk lists from
the cursors of the previous page, past both ends.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import databases
from tests.conftest import DIALECTS
from tests.read_ops.compare import parse, same_responses
from tests.read_ops.dataset import Dataset, build, insert
from tests.read_ops.operations import COMPILABLE_ROOTS, OTHER_ROOTS, Generator, Operation
from tests.read_ops.paths import Paths, both_paths
from tests.read_ops.selections import SCHEMA

# One worker holds the module: its tests share one seeded database per dialect.
# When an error nulls a parent, graphql-core drops the resolver coroutines of its fields that
# had not started yet without awaiting them; Python warns as they are collected. The resolvers
# never ran, so nothing is lost; the warning is let pass here (and flushed before the end).
UNAWAITED = r"coroutine '(GraphQLCoreConverter|Executor)\.[^']*' was never awaited"
pytestmark = [
    pytest.mark.xdist_group("read-paths"),
    pytest.mark.filterwarnings(f"ignore:{UNAWAITED}:RuntimeWarning"),
]
SEED = 1313
OPERATIONS = 300  # single operations per dialect, besides the paging chains
CHAINS = 40
# The compiled path must answer at least this share of the root fields it could compile.
# About a third of the generated root fields are meant for the resolvers: ids that are not
# visible (NOT_FOUND), refused arguments, and selections outside the compiled part (API keys,
# invitations). Half of them must still be answered by compiled statements.
MIN_SERVED = 0.5
SHOWN_MISMATCHES = 3


@pytest.fixture(scope="module", params=DIALECTS)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Dataset]]:
    """A database of the dialect with the dataset in it, shared by the module's tests."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        url = databases.sqlite_copy(template, tmp_path_factory.mktemp("read-paths"))
        yield url, insert(url)
        return
    with databases.postgres_database(template=request.getfixturevalue("postgres_template")) as url:
        yield url, insert(url)


async def walk_pages(paths: Paths, operation: Operation) -> None:
    """A chain: page on from each answer's cursors, one page past the end, then turn back."""
    assert operation.paging is not None
    key, size = operation.paging
    base = {k: v for k, v in operation.variables.items() if k not in {"first", "last"}}
    forward = "first" in operation.variables
    page, past_end, turned = None, False, False
    body = await paths.both(operation)
    for _step in range(6):
        current = ((body.get("data") or {}).get("node") or {}).get(key)
        if current is None:
            return  # refused (a bad filter id, say): nothing to page on
        if current["edges"]:
            page = current
        if page is None:
            return
        info = page["pageInfo"]
        if not info["hasNextPage" if forward else "hasPreviousPage"]:
            if past_end and turned:
                return
            if past_end:  # the empty page past the end was seen: page back from here
                turned, forward = True, not forward
            past_end = True
        step = {"first": size, "after": info["endCursor"]} if forward else {
            "last": size, "before": info["startCursor"]}  # fmt: skip
        body = await paths.both(operation, {**base, **step})


@contextmanager
def collected_at_the_end() -> Iterator[None]:
    """The cyclic collector runs once, at the end of the block, under this module's filter.

    Left to itself it runs wherever an allocation happens to trigger it; a dropped
    coroutine's warning raised while a namedtuple's generated ``__new__`` is the current
    frame (its builtins are empty, by design) cannot even be emitted: Python reports a
    KeyError for ``__import__`` as an unraisable exception instead, and the test fails.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect()  # the dropped coroutines warn now, and the warning is let pass
        if enabled:
            gc.enable()


def report(paths: Paths) -> str:
    shown = "\n\n".join(str(m) for m in paths.mismatches[:SHOWN_MISMATCHES])
    return f"{len(paths.mismatches)} of {paths.requests} requests answered differently:\n{shown}"


class TestBothReadPathsAnswerAlike:
    async def test_generated_operations_get_the_same_json_from_both_paths(
        self, seeded: tuple[str, Dataset], tmp_path: Path
    ) -> None:
        url, data = seeded
        generator = Generator(data, SEED)
        async with both_paths(url, tmp_path) as paths:
            with collected_at_the_end():
                for index in range(OPERATIONS):
                    await paths.both(generator.operation(paths.cursors))
                    if index % (OPERATIONS // CHAINS) == 0:
                        await walk_pages(paths, generator.paging())
            assert not paths.mismatches, report(paths)
            assert paths.requests >= OPERATIONS + CHAINS
            assert_compiled_path_served(paths)
        print(f"\n{paths.requests} requests, {paths.unstable} asked again; histogram:")  # -s
        for name, count in sorted(generator.stats.items()):
            print(f"  {name}: {count}")

    async def test_a_different_answer_is_reported_with_its_path(
        self, seeded: tuple[str, Dataset], tmp_path: Path
    ) -> None:
        url, _data = seeded
        query = "query Viewer { viewer { id memberships { role workspace { id name } } } }"
        operation = Operation("Viewer", query, {}, ["viewer"])
        async with both_paths(url, tmp_path) as paths:
            expected = await paths.post(paths.http[0], operation, {})
        body = parse(expected[1])
        memberships = body["data"]["viewer"]["memberships"]
        assert len(memberships) == 3, body
        name = memberships[1]["workspace"]["name"]
        renamed = parse(expected[1])
        renamed["data"]["viewer"]["memberships"][1]["workspace"]["name"] = "Other"
        assert same_responses(expected, _sent(renamed)) == [
            f'$.data.viewer.memberships[1].workspace.name: "{name}" != "Other"'
        ]
        reordered = parse(expected[1])
        first = reordered["data"]["viewer"]["memberships"][0]
        first["role"] = first.pop("role")
        assert same_responses(expected, _sent(reordered)) == [
            "$.data.viewer.memberships[0]: keys in another order:"
            " ['role', 'workspace'] != ['workspace', 'role']"
        ]
        retyped = parse(expected[1])
        retyped["data"]["viewer"]["memberships"][2]["workspace"]["id"] = None
        assert same_responses(expected, _sent(retyped))[0].startswith(
            "$.data.viewer.memberships[2].workspace.id: "
        )
        assert same_responses(expected, (200, expected[1].replace(b"{", b"{ "))) == []
        assert same_responses(expected, (500, expected[1])) == ["HTTP status 200 != 500"]

    async def test_a_compiled_answer_that_differs_fails_with_the_operation_to_replay(
        self, seeded: tuple[str, Dataset], tmp_path: Path
    ) -> None:
        url, data = seeded
        client_id = data.visible["Client"][0]
        query = "query One($id: ID!) { node(id: $id) { id ... on Client { name description } } }"
        operation = Operation("One", query, {"id": client_id}, ["node"])
        async with both_paths(url, tmp_path) as paths:
            await paths.both(operation)
            assert paths.mismatches == []
            transport = Tampering(httpx.ASGITransport(app=paths.compiled))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as bad:
                paths.http = (paths.http[0], bad)
                await paths.both(operation)
        assert len(paths.mismatches) == 1
        shown = report(paths)
        assert "1 of 2 requests answered differently" in shown
        assert '$.data.node.name: "North client 0" != "Tampered"' in shown
        assert f"{query}\nvariables: {json.dumps({'id': client_id})}" in shown  # to send again


class Tampering(httpx.AsyncBaseTransport):
    """A transport that renames whatever node an answer holds: a compiled path gone wrong."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = parse(await response.aread())
        body["data"]["node"]["name"] = "Tampered"
        return httpx.Response(response.status_code, content=json.dumps(body).encode())


class TestTheGeneratorCoversTheSchema:
    def test_every_root_filter_order_page_and_id_kind_occurs(self) -> None:
        _rows, data, _doomed = build()
        generator = Generator(data, SEED)
        for index in range(OPERATIONS):
            generator.operation(["WyJjcmVhdGVkX2F0IiwiMjAyNiIsIjAwIl0"])
            if index % (OPERATIONS // CHAINS) == 0:
                generator.paging()
        stats = generator.stats
        wanted = [f"root:{root}" for root in [*COMPILABLE_ROOTS, *OTHER_ROOTS]]
        wanted += [
            f"order:{f}:{d}" for f in ("CREATED_AT", "UPDATED_AT", "NAME") for d in ("ASC", "DESC")
        ]
        wanted += [f"filter:{t.name}.{n}" for t in _filter_inputs() for n in t.fields]
        wanted += [
            f"page:{kind}"
            for kind in (
                "first",
                "last",
                "first+after",
                "last+before",
                "first:0",
                "first:101",
                "bad-cursor",
            )
        ]
        wanted += [
            f"id:{kind}"
            for kind in ("visible", "foreign", "deleted", "random", "malformed", "wrong-type")
        ]
        wanted += [f"on:{t.name}" for t in SCHEMA.get_possible_types(SCHEMA.get_type("Node"))]  # type: ignore[arg-type]
        wanted += [
            "named-fragment",
            "alias",
            "__typename",
            "arg:literal",
            "arg:variable",
            "roots:3",
        ]
        assert [name for name in wanted if stats[name] == 0] == []


def _filter_inputs() -> list[Any]:
    return [t for name, t in SCHEMA.type_map.items() if name.endswith("FilterInput")]


def _sent(body: Any) -> tuple[int, bytes]:
    return 200, json.dumps(body).encode()


def assert_compiled_path_served(paths: Paths) -> None:
    """The compiled app answered most compilable root fields itself; the reference none."""
    compiled, reference = paths.compiled.state.runtime, paths.reference.state.runtime
    served, fallbacks = compiled.reads.served, compiled.reads.fallbacks
    assert served >= MIN_SERVED * paths.compilable_roots, (
        f"the compiled path answered {served} of {paths.compilable_roots} compilable root"
        f" fields ({fallbacks} fell back to the resolvers)"
    )
    assert reference.reads.served == 0, "with compiled_reads off nothing is compiled"
