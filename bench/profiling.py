"""Group a cProfile of the dashboard into where the time goes: graphql-core, ORM, our code...

Self time is summed per category. Built-in functions (``len``, ``dict.get``, C methods) have
no file; their time is charged to the category of the Python function that called them.
"""

from __future__ import annotations

import pstats
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import app as app_package
from bench.inprocess import Profiled

APP_DIR = str(Path(app_package.__file__).resolve().parent) + "/"

# (category, path fragments), first match wins.
CATEGORIES: list[tuple[str, tuple[str, ...]]] = [
    ("our code (app/)", (APP_DIR,)),
    ("Strawberry", ("/site-packages/strawberry/",)),
    (
        "graphql-core execution",
        ("/site-packages/graphql/execution/", "/site-packages/graphql/pyutils/"),
    ),
    ("graphql-core validation", ("/site-packages/graphql/validation/",)),
    ("graphql-core parse/types", ("/site-packages/graphql/",)),
    ("SQLAlchemy ORM", ("/sqlalchemy/orm/", "/sqlmodel/")),
    ("SQLAlchemy Core/engine", ("/sqlalchemy/",)),
    ("database driver", ("/asyncpg/", "/aiosqlite/", "/sqlite3/", "/psycopg/")),
    (
        "HTTP in process (Starlette, httpx client)",
        ("/starlette/", "/httpx/", "/httpcore/", "/anyio/", "/asgi_lifespan/", "/h11/"),
    ),
    ("asyncio event loop", ("/asyncio/", "/uvloop/")),
    ("JSON and stdlib", ("/json/", "/uuid.py", "/base64.py", "/datetime.py", "/decimal.py")),
]
OTHER = "other"
# Wall time spent blocked in the event loop's poll: waiting for the database, not CPU.
IDLE = "waiting for I/O (excluded)"
_IDLE_FUNCTIONS = ("<method 'poll' of 'select.epoll' objects>", "<method 'select' of")

FunctionKey = tuple[str, int, str]


def category_of(filename: str) -> str:
    for name, fragments in CATEGORIES:
        if any(fragment in filename for fragment in fragments):
            return name
    return OTHER


def _is_builtin(key: FunctionKey) -> bool:
    return key[0] == "~" or key[0].startswith("<")


def _label(key: FunctionKey) -> str:
    filename, line, name = key
    if filename == "~":
        return name
    if filename.startswith(APP_DIR):
        short = "app/" + filename.removeprefix(APP_DIR)
    elif "site-packages/" in filename:
        short = filename.split("site-packages/")[-1]
    else:  # the standard library: keep what follows lib/pythonX.Y/
        short = filename.rsplit("/lib/python", 1)[-1].partition("/")[2] or filename
    return f"{short}:{line}({name})"


@dataclass(frozen=True, slots=True)
class Breakdown:
    total: float  # seconds of profiled self time
    by_category: dict[str, float]
    top: dict[str, list[tuple[str, float]]]  # per category, (function, self seconds)
    idle: float  # seconds blocked in the event loop's poll, not in the total


def breakdown(profiled: Profiled, per_category: int = 4) -> Breakdown:
    raw: dict[FunctionKey, Any] = pstats.Stats(profiled.profile).stats  # type: ignore[attr-defined]
    by_category: dict[str, float] = defaultdict(float)
    by_function: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for key, (_cc, _nc, self_time, _cum, callers) in raw.items():
        if not _is_builtin(key):
            category = category_of(key[0])
            by_category[category] += self_time
            by_function[category][_label(key)] += self_time
            continue
        if key[2].startswith(_IDLE_FUNCTIONS):
            by_category[IDLE] += self_time
            continue
        # A built-in: split its time among its callers' categories.
        shares = {caller: timing[2] for caller, timing in callers.items()}
        assigned = sum(shares.values())
        for caller, caller_time in shares.items():
            category = OTHER if _is_builtin(caller) else category_of(caller[0])
            by_category[category] += caller_time
            by_function[category][_label(key)] += caller_time
        if self_time > assigned:
            by_category[OTHER] += self_time - assigned
            by_function[OTHER][_label(key)] += self_time - assigned
    top = {
        category: sorted(functions.items(), key=lambda item: -item[1])[:per_category]
        for category, functions in by_function.items()
    }
    idle = by_category.pop(IDLE, 0.0)
    return Breakdown(sum(by_category.values()), dict(by_category), top, idle)


def report(profiled: Profiled) -> str:
    data = breakdown(profiled)
    runs = profiled.runs
    timer = profiled.gc
    gens = ", ".join(f"gen{g}: {n}" for g, n in timer.collections.items())
    lines = [
        f"In process, one request at a time: {profiled.wall_seconds * 1000 / runs:.1f} ms/request "
        f"wall, of which cyclic GC {timer.seconds * 1000 / runs:.1f} ms ({gens} in {runs} "
        f"requests; {timer.collected / runs:.0f} objects freed per request)",
        f"Profile: {runs} more requests under cProfile with the collector off (self time, "
        "built-ins charged to their callers)",
        f"{'category':<44} {'share':>6} {'ms/req':>8}",
    ]
    for category, seconds in sorted(data.by_category.items(), key=lambda item: -item[1]):
        lines.append(f"{category:<44} {seconds / data.total:>6.1%} {seconds * 1000 / runs:>8.1f}")
        for function, function_seconds in data.top.get(category, []):
            lines.append(f"    {function_seconds * 1000 / runs:>7.2f} ms  {function}")
    lines.append(f"{'total':<44} {1:>6.1%} {data.total * 1000 / runs:>8.1f}")
    lines.append(f"{IDLE:<44} {'':>6} {data.idle * 1000 / runs:>8.1f}")
    return "\n".join(lines)
