"""adstudio against PostGraphile 5 on the same PostgreSQL database, in interleaved rounds.

    python -m bench.peer [--cases dashboard,client,typename,scaling,sqlite]
                         [--adstudio-modes compiled,resolvers] [--seconds 10] [--rounds 3]

Seeds a workspace of 50 clients x 10 campaigns x 20 assets on a fresh PostgreSQL database,
installs PostGraphile (``bench/postgraphile.py``) and points it at the same tables, serves
adstudio once per read mode (``ADSTUDIO_COMPILED_READS``), checks that every server's answer has
the same shape, counts SQL statements per request, and measures each case with a closed-loop
load generator: req/s, p50/p99, CPU per request of the server process and of the database's
backends. The SQLite case measures adstudio's dashboard alone, on a temporary SQLite file.
Everything it starts is stopped, and every database it creates is dropped, on every exit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import psycopg

from bench import postgraphile
from bench.dashboard import _login, _on_sigterm, _server_env, _var_dir
from bench.database import POSTGRES_ENV, Database, bench_database
from bench.peer_cases import CASE_RUNNERS, sqlite_case
from bench.peer_run import POSTGRAPHILE, Bench, Target, adstudio_name, serve_adstudio
from bench.seed import seed

CASES = ("dashboard", "client", "typename", "scaling", "sqlite")
MODES = ("compiled", "resolvers")
SEED_CLIENTS = 50
SCALING_CLIENTS = (5, 10, 20, 50)
SCALING_ASSETS = (1, 5, 20)
# The 50 x 10 x 20 dashboard is far above the API's default cost limit (10,000).
MAX_QUERY_COST = 1_000_000


def _list(allowed: tuple[str, ...]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        items = [item.strip() for item in text.split(",") if item.strip()]
        unknown = [item for item in items if item not in allowed]
        if unknown or not items:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)}")
        return items

    return parse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.peer", description=__doc__)
    parser.add_argument("--database-url", help="PostgreSQL database to use (kept afterwards)")
    parser.add_argument("--cases", type=_list(CASES), default=list(CASES))
    parser.add_argument("--adstudio-modes", type=_list(MODES), default=list(MODES))
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs; medians shown")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive clients")
    parser.add_argument(
        "--scaling-seconds", type=float, default=3.0, help="about this long per scaling point"
    )
    parser.add_argument("--scaling-connections", type=int, default=2)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    _emit([_header(args)])
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="adstudio-peer-")))
        postgres_cases = [case for case in args.cases if case != "sqlite"]
        if postgres_cases:
            bench = _postgres_bench(stack, args, scratch)
            for case in postgres_cases:
                print(f"... case {case} ({time.strftime('%H:%M:%S')})", flush=True)
                _emit(["", *CASE_RUNNERS[case](bench)])
        if "sqlite" in args.cases:
            print(f"... case sqlite ({time.strftime('%H:%M:%S')})", flush=True)
            _emit(["", *sqlite_case(args, scratch / "sqlite")])


def _emit(lines: list[str]) -> None:
    """Print a case's table as soon as it is measured."""
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def _header(args: argparse.Namespace) -> str:
    return (
        f"adstudio against {POSTGRAPHILE}: {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; {args.connections} connections, {args.seconds:g} s runs "
        f"after {args.warmup:g} s warm-up, {args.rounds} interleaved round(s), medians"
    )


def _postgres_bench(stack: ExitStack, args: argparse.Namespace, scratch: Path) -> Bench:
    if not args.database_url and not os.environ.get(POSTGRES_ENV):
        raise SystemExit(f"PostgreSQL is needed: set {POSTGRES_ENV} or pass --database-url")
    node = postgraphile.install()
    database = stack.enter_context(bench_database(args.database_url, scratch))
    if database.is_sqlite:
        raise SystemExit("PostGraphile needs PostgreSQL; --database-url must be one")
    seeded = asyncio.run(seed(database.url, _var_dir(scratch) / "media", clients=SEED_CLIENTS))
    postgraphile.create_stats(database)
    env = {**_server_env(database, scratch), "ADSTUDIO_MAX_QUERY_COST": str(MAX_QUERY_COST)}
    name = _database_name(database)
    targets = []
    for mode in args.adstudio_modes:
        server = stack.enter_context(serve_adstudio(mode, {**env}, scratch))
        targets.append(Target(adstudio_name(mode), server, database=name))
    peer = stack.enter_context(postgraphile.serve_postgraphile(node, database, env, scratch))
    token = _login(targets[0].server, seeded)
    bearer = (f"Authorization: Bearer {token}",)
    targets = [Target(t.name, t.server, bearer, t.database) for t in targets]
    targets.append(Target(POSTGRAPHILE, peer, database=name))
    client = _newest_client(database)
    return Bench(args, scratch, database, env, token, targets, seeded.workspace_id, client)


def _database_name(database: Database) -> str:
    with psycopg.connect(database.driver_url) as connection:
        row = connection.execute(b"SELECT current_database()").fetchone()
    return str(row[0]) if row else ""


def _newest_client(database: Database) -> uuid.UUID:
    with psycopg.connect(database.driver_url) as connection:
        row = connection.execute(
            b"SELECT id FROM client ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
    if row is None:
        raise RuntimeError("the seeded database has no client")
    return uuid.UUID(str(row[0]))


if __name__ == "__main__":
    main()
