"""PostGraphile 5, the peer: installed with npm into a cache folder, served on the bench database.

``bench/postgraphile/`` holds the committed ``package.json`` and ``package-lock.json``
(PostGraphile, ``pg``, and the npm package ``node``, which ships the Node 22 binary PostGraphile
needs), the preset (``graphile.config.mjs``), the server script and the statistics' SQL
functions. The first run installs the locked packages with ``npm ci`` into
``.cache/postgraphile`` at the top of the repository (ignored by git); later runs reuse it while
``package.json`` and the lock file are unchanged. The one install script allowed (``allowScripts``)
is the ``node`` package's, which installs the Node binary for this platform.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg

from bench.database import Database
from bench.procs import Server, free_port, serve

SOURCE = Path(__file__).resolve().parent / "postgraphile"
CACHE = SOURCE.parents[1] / ".cache" / "postgraphile"
_FILES = ("package.json", "package-lock.json", "graphile.config.mjs", "server.mjs")
_STAMP = ".installed"
INSTALL_TIMEOUT_SECONDS = 900
MIN_NODE_MAJOR = 22


def install(cache: Path = CACHE) -> Path:
    """The Node binary to run PostGraphile with, installing the locked packages if needed."""
    cache.mkdir(parents=True, exist_ok=True)
    for name in _FILES:
        shutil.copyfile(SOURCE / name, cache / name)
    lock = hashlib.sha256(
        (SOURCE / "package.json").read_bytes() + (SOURCE / "package-lock.json").read_bytes()
    ).hexdigest()
    stamp = cache / _STAMP
    node = cache / "node_modules" / ".bin" / "node"
    if not (stamp.exists() and stamp.read_text() == lock and node.exists()):
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is needed to install PostGraphile for the bench")
        print(f"... installing PostGraphile with npm into {cache} (first run only)", flush=True)
        subprocess.run(  # noqa: S603 (npm with fixed arguments)
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=cache, check=True, timeout=INSTALL_TIMEOUT_SECONDS,
        )  # fmt: skip
        stamp.write_text(lock)
    _check_node(node)
    return node


def _check_node(node: Path) -> None:
    version = subprocess.run(  # noqa: S603 (the binary we installed)
        [str(node), "--version"], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < MIN_NODE_MAJOR:
        raise RuntimeError(f"PostGraphile needs Node >= {MIN_NODE_MAJOR}; {node} is {version}")


def create_stats(database: Database) -> None:
    """Create the computed columns ``Client.stats`` and ``Campaign.stats`` (idempotent)."""
    with psycopg.connect(database.driver_url, autocommit=True) as connection:
        connection.execute((SOURCE / "stats.sql").read_bytes())


@contextmanager
def serve_postgraphile(
    node: Path, database: Database, env: dict[str, str], log_dir: Path
) -> Iterator[Server]:
    port = free_port()
    server_env = {
        **env,
        "DATABASE_URL": database.driver_url,
        "PORT": str(port),
        "NODE_ENV": "production",
    }
    command = [str(node), str(node.parents[2] / "server.mjs")]
    with serve("postgraphile", command, port=port, env=server_env, log_dir=log_dir) as server:
        yield server


def statements_sent(server: Server) -> int:
    """How many SQL statements PostGraphile's pool has sent since it started."""
    response = httpx.get(server.base_url + "/_bench/statements", timeout=30)
    response.raise_for_status()
    return int(response.json()["statements"])
