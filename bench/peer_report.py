"""The peer bench's figures and tables: medians of runs, ratios, CPU per field."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bench.load import LoadResult


@dataclass(frozen=True, slots=True)
class Figures:
    """One server on one case: medians over the rounds."""

    server: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    server_cpu_ms: float
    database_cpu_ms: float | None  # None: the database runs inside the server (SQLite)
    statements: int

    @property
    def total_cpu_ms(self) -> float:
        return self.server_cpu_ms + (self.database_cpu_ms or 0.0)


def median_figures(
    server: str, runs: Sequence[LoadResult], statements: int, *, embedded: bool = False
) -> Figures:
    def median(attribute: str) -> float:
        return float(statistics.median(getattr(run, attribute) for run in runs))

    return Figures(
        server,
        median("requests_per_second"),
        median("p50_ms"),
        median("p99_ms"),
        median("cpu_ms_per_request"),
        None if embedded else median("database_cpu_ms_per_request"),
        statements,
    )


RATIO_FIELDS = ("req/s", "p50", "p99", "server CPU", "database CPU", "total CPU", "SQL")


def ratios(ours: Figures, peer: Figures) -> dict[str, float]:
    """``ours`` divided by ``peer``, figure by figure (NaN where the peer's figure is 0)."""

    def over(a: float | None, b: float | None) -> float:
        return a / b if a is not None and b else math.nan

    return dict(
        zip(
            RATIO_FIELDS,
            (
                over(ours.requests_per_second, peer.requests_per_second),
                over(ours.p50_ms, peer.p50_ms),
                over(ours.p99_ms, peer.p99_ms),
                over(ours.server_cpu_ms, peer.server_cpu_ms),
                over(ours.database_cpu_ms, peer.database_cpu_ms),
                over(ours.total_cpu_ms, peer.total_cpu_ms),
                over(ours.statements, peer.statements),
            ),
            strict=True,
        )
    )


def _number(value: float | None, width: int) -> str:
    if value is None:
        return f"{'(in server)':>{width}}"
    if math.isnan(value):
        return f"{'-':>{width}}"
    digits = 3 if abs(value) < 1 else 2 if abs(value) < 10 else 1
    return f"{value:>{width},.{digits}f}"


def case_table(title: str, rows: Sequence[Figures], peer: str | None) -> list[str]:
    """A case's table: one line per server, then each other server divided by ``peer``."""
    out = [
        title,
        f"  {'server':<24} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'server CPU':>11} "
        f"{'db CPU':>11} {'total CPU':>10} {'SQL/req':>8}   (CPU in ms per request)",
    ]
    for row in rows:
        out.append(
            f"  {row.server:<24} {_number(row.requests_per_second, 9)} {_number(row.p50_ms, 9)} "
            f"{_number(row.p99_ms, 9)} {_number(row.server_cpu_ms, 11)} "
            f"{_number(row.database_cpu_ms, 11)} {_number(row.total_cpu_ms, 10)} "
            f"{row.statements:>8}"
        )
    by_name = {row.server: row for row in rows}
    if peer in by_name:
        for row in rows:
            if row.server != peer:
                found = ratios(row, by_name[peer])
                parts = ", ".join(f"{k} {_number(v, 0).strip()}" for k, v in found.items())
                out.append(f"  {row.server} / {peer}: {parts}")
    return out


@dataclass(frozen=True, slots=True)
class ScalingPoint:
    clients: int
    assets: int
    fields: int
    figures: Sequence[Figures]


def micros_per_field(figures: Figures, fields: int) -> float:
    """Server plus database CPU per field of the response, in microseconds."""
    return figures.total_cpu_ms * 1000 / fields if fields else math.nan


def scaling_table(points: Sequence[ScalingPoint], peer: str) -> list[str]:
    """CPU per request and per field at each size, and each server's cost per field / peer's."""
    if not points:
        return []
    names = [f.server for f in points[0].figures]
    head = f"  {'clients x assets':<17} {'fields':>8}"
    for name in names:
        head += f" | {name[:22]:>22} ms  us/field"
    head += " | us/field / " + peer
    out = [head]
    for point in points:
        line = f"  {f'{point.clients} x {point.assets}':<17} {point.fields:>8,}"
        per_field = {}
        for figures in point.figures:
            per_field[figures.server] = micros_per_field(figures, point.fields)
            line += (
                f" | {_number(figures.total_cpu_ms, 25)} {_number(per_field[figures.server], 9)}"
            )
        others = [n for n in names if n != peer]
        line += " | " + ", ".join(
            _number(per_field[n] / per_field[peer], 0).strip() for n in others if peer in per_field
        )
        out.append(line)
    return out
