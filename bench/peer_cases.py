"""The peer bench's cases: each checks the servers' answers, counts SQL, measures, and returns
its table's lines."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import orjson

from bench import peer_queries
from bench import query as ours
from bench.dashboard import _login, _server_env, _var_dir
from bench.database import bench_database
from bench.load import LoadResult
from bench.peer_report import Figures, ScalingPoint, case_table, median_figures, scaling_table
from bench.peer_run import (
    POSTGRAPHILE,
    Answer,
    Bench,
    Load,
    Target,
    adstudio_name,
    count_statements,
    fetch,
    interleaved,
    load_for,
    requests_for,
    run_load,
    same_shape,
    serve_adstudio,
)
from bench.seed import seed

SCALING_CLIENTS = (5, 10, 20, 50)
SCALING_ASSETS = (1, 5, 20)
CAMPAIGNS = ours.CAMPAIGN_PAGE


def _bodies(bench: Bench, adstudio: bytes, peer: bytes) -> dict[str, bytes]:
    return {t.name: peer if t.name == POSTGRAPHILE else adstudio for t in bench.targets}


def _answers(targets: list[Target], bodies: dict[str, bytes]) -> dict[str, Answer]:
    return {t.name: fetch(t, bodies[t.name]) for t in targets}


def _describe(answer: Answer) -> str:
    size = len(orjson.dumps(answer.payload))
    return f"{sum(answer.shape):,} objects, {answer.fields:,} fields, {size / 1024:,.1f} KB"


def _load(bench: Bench) -> Load:
    args = bench.args
    return Load(args.connections, args.seconds, args.warmup)


def _figures(
    results: dict[str, list[LoadResult]], statements: dict[str, int], *, embedded: bool = False
) -> list[Figures]:
    return [
        median_figures(name, runs, statements[name], embedded=embedded)
        for name, runs in results.items()
    ]


def measured_case(bench: Bench, title: str, bodies: dict[str, bytes]) -> list[str]:
    """Same shape from every server, SQL counted, then interleaved rounds of load."""
    answers = _answers(bench.targets, bodies)
    first = same_shape(title, answers)
    statements = bench.statements({title: bodies})[title]
    files = {name: bench.body_file(name, body) for name, body in bodies.items()}
    loads = {
        name: load_for(_load(bench), fetch_timed(bench, name, body))
        for name, body in bodies.items()
    }
    results = interleaved(bench.targets, files, loads, bench.args.rounds)
    heading = f"{title}: {_describe(first)}"
    return case_table(heading, _figures(results, statements), POSTGRAPHILE)


def fetch_timed(bench: Bench, name: str, body: bytes) -> Answer:
    """One more request (the servers are warm by now), timed."""
    return fetch(next(t for t in bench.targets if t.name == name), body)


def dashboard(bench: Bench) -> list[str]:
    size = (ours.CLIENT_PAGE, CAMPAIGNS, ours.ASSET_PAGE)
    bodies = _bodies(
        bench,
        ours.sized_dashboard_body(bench.workspace, *size),
        peer_queries.dashboard_body(bench.workspace, *size),
    )
    ours.check_dashboard(
        fetch(bench.targets[0], bodies[bench.targets[0].name]).payload, source="adstudio"
    )
    title = f"dashboard ({size[0]} clients x {size[1]} campaigns x {size[2]} assets, with stats)"
    return measured_case(bench, title, bodies)


def client(bench: Bench) -> list[str]:
    bodies = _bodies(bench, ours.client_body(bench.client), peer_queries.client_body(bench.client))
    return measured_case(bench, "client by id (node, 4 fields)", bodies)


def typename(bench: Bench) -> list[str]:
    bodies = _bodies(bench, ours.typename_body(), peer_queries.typename_body())
    return measured_case(bench, "{ __typename } (adstudio with a bearer token)", bodies)


def scaling(bench: Bench) -> list[str]:
    """One run per size and server: a fixed number of requests, about --scaling-seconds."""
    sizes = [(c, a) for c in SCALING_CLIENTS for a in SCALING_ASSETS]
    bodies = {
        f"{c} x {a}": _bodies(
            bench,
            ours.sized_dashboard_body(bench.workspace, c, CAMPAIGNS, a),
            peer_queries.dashboard_body(bench.workspace, c, CAMPAIGNS, a),
        )
        for c, a in sizes
    }
    statements = bench.statements(bodies)
    points = []
    for (c, a), (key, by_server) in zip(sizes, bodies.items(), strict=True):
        print(f"...   scaling {key}", flush=True)
        answers = _answers(bench.targets, by_server)
        first = same_shape(f"scaling {key}", answers)
        figures = []
        for target in bench.targets:
            timed = fetch(target, by_server[target.name])  # warm, then time one
            load = Load(
                bench.args.scaling_connections, 0.0, 0.0,
                requests_for(bench.args.scaling_seconds, timed),
            )  # fmt: skip
            result = run_load(target, bench.body_file(target.name, by_server[target.name]), load)
            figures.append(median_figures(target.name, [result], statements[key][target.name]))
        points.append(ScalingPoint(c, a, first.fields, figures))
    title = (
        f"scaling: clients x {CAMPAIGNS} campaigns x assets, CPU per request (server + database)"
        f" and per field, {bench.args.scaling_connections} connections"
    )
    return [title, *scaling_table(points, POSTGRAPHILE)]


CASE_RUNNERS: dict[str, Callable[[Bench], list[str]]] = {
    "dashboard": dashboard,
    "client": client,
    "typename": typename,
    "scaling": scaling,
}


def sqlite_case(args: argparse.Namespace, scratch: Path) -> list[str]:
    """adstudio's dashboard on a SQLite file, every read mode; the database runs in the server."""
    scratch.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        url = f"sqlite+aiosqlite:///{(scratch / 'bench.db').as_posix()}"
        database = stack.enter_context(bench_database(url, scratch))
        seeded = asyncio.run(seed(database.url, _var_dir(scratch) / "media"))
        env = _server_env(database, scratch)
        servers = [
            stack.enter_context(serve_adstudio(m, {**env}, scratch)) for m in args.adstudio_modes
        ]
        token = _login(servers[0], seeded)
        bearer = (f"Authorization: Bearer {token}",)
        targets = [
            Target(adstudio_name(m), s, bearer)
            for m, s in zip(args.adstudio_modes, servers, strict=True)
        ]
        body = ours.dashboard_body(seeded.workspace_id)
        bodies = {t.name: body for t in targets}
        answers = _answers(targets, bodies)
        first = same_shape("SQLite dashboard", answers)
        ours.check_dashboard(first.payload, source="adstudio on SQLite")
        statements = count_statements(env, token, targets, {"sqlite": bodies})["sqlite"]
        files = {t.name: scratch / f"{t.name}.json" for t in targets}
        for path in files.values():
            path.write_bytes(body)
        load = Load(args.connections, args.seconds, args.warmup)
        loads = {t.name: load_for(load, fetch(t, body)) for t in targets}
        results = interleaved(targets, files, loads, args.rounds)
    peer = adstudio_name("resolvers") if len(targets) > 1 else None
    title = (
        f"SQLite dashboard, adstudio alone (the database runs in the server): {_describe(first)}"
    )
    return case_table(title, _figures(results, statements, embedded=True), peer)
