"""The peer bench's pure parts: counting fields and levels, process titles, ratios, tables."""

from __future__ import annotations

import math
import uuid

import orjson
import pytest

from bench import peer_queries
from bench.dbcpu import backend_database, parallel_leader
from bench.load import LoadResult
from bench.peer_report import (
    Figures,
    ScalingPoint,
    case_table,
    median_figures,
    micros_per_field,
    ratios,
    scaling_table,
)
from bench.peer_run import Answer, Load, load_for, requests_for
from bench.query import count_objects, level_counts


def _figures(name: str, rps: float, server: float, database: float | None, sql: int) -> Figures:
    return Figures(name, rps, 10.0, 20.0, server, database, sql)


def test_levels_and_fields_of_a_connection() -> None:
    data = {
        "node": {
            "id": "w",
            "clients": {
                "totalCount": 2,
                "edges": [{"cursor": "a", "node": {"id": 1}}, {"cursor": "b", "node": {"id": 2}}],
            },
        }
    }
    assert level_counts(data) == [1, 1, 1, 2, 2]
    # objects: data, node, clients, 2 edges, 2 nodes; fields: 1 + 2 + 2 + 2*2 + 2*1
    assert count_objects(data) == (7, 11)
    assert level_counts({"__typename": "Query"}) == [1]
    assert level_counts([]) == []


def test_levels_tell_apart_answers_with_the_same_objects() -> None:
    flat = {"a": {"x": 1}, "b": {"z": 3}}
    deep = {"a": {"x": {"z": 3}}, "b": 2}
    assert count_objects(flat)[0] == count_objects(deep)[0]
    assert level_counts(flat) == [1, 2]
    assert level_counts(deep) == [1, 1, 1]


def test_backend_titles() -> None:
    title = "postgres: 15/main: postgres adstudio_bench_42 127.0.0.1(50412) idle"
    assert backend_database(title) == "adstudio_bench_42"
    assert backend_database("postgres: postgres other 127.0.0.1(1) SELECT") == "other"
    assert backend_database("postgres: 15/main: checkpointer ") is None
    assert backend_database("postgres: 15/main: parallel worker for PID 1234 ") is None
    assert parallel_leader("postgres: 15/main: parallel worker for PID 1234 ") == 1234
    assert parallel_leader(title) is None
    assert backend_database("postgres: 15/main: postgres test [local] idle") == "test"


def test_ratios_divide_ours_by_the_peer() -> None:
    ours = _figures("adstudio", 3.0, 300.0, 30.0, 11)
    peer = _figures("PostGraphile 5", 30.0, 20.0, 25.0, 1)
    found = ratios(ours, peer)
    assert found["req/s"] == pytest.approx(0.1)
    assert found["server CPU"] == pytest.approx(15.0)
    assert found["database CPU"] == pytest.approx(1.2)
    assert found["total CPU"] == pytest.approx(330.0 / 45.0)
    assert found["SQL"] == 11
    embedded = ratios(_figures("a", 1.0, 1.0, None, 1), _figures("b", 1.0, 1.0, 0.0, 0))
    assert math.isnan(embedded["database CPU"])
    assert math.isnan(embedded["SQL"])


def test_case_table_prints_each_server_and_the_ratio_line() -> None:
    rows = [_figures("adstudio", 3.0, 300.0, 30.0, 11), _figures("peer", 30.0, 20.0, 25.0, 1)]
    lines = case_table("dashboard", rows, "peer")
    assert lines[0] == "dashboard"
    assert lines[2].split()[:3] == ["adstudio", "3.00", "10.0"]
    assert lines[4].startswith("  adstudio / peer: req/s 0.100, ")
    assert "total CPU 7.33" in lines[4]
    sqlite = case_table("sqlite", [_figures("a", 2.0, 400.0, None, 13)], None)
    assert "(in server)" in sqlite[2]
    assert len(sqlite) == 3


def test_median_figures_take_the_median_of_the_rounds() -> None:
    def run(rps: float, cpu: float) -> LoadResult:
        return LoadResult(10, 0, 1.0, rps, 5.0, 9.0, 1.0, cpu, 100.0, 0.5, 7.0)

    figures = median_figures("x", [run(1, 10), run(3, 30), run(2, 50)], 4)
    assert (figures.requests_per_second, figures.server_cpu_ms) == (2.0, 30.0)
    assert figures.database_cpu_ms == 7.0
    assert figures.total_cpu_ms == 37.0
    assert median_figures("x", [run(1, 10)], 4, embedded=True).database_cpu_ms is None


def test_scaling_table_costs_per_field() -> None:
    ours, peer = _figures("adstudio", 1, 90.0, 10.0, 11), _figures("peer", 1, 4.0, 1.0, 1)
    assert micros_per_field(ours, 5_000) == pytest.approx(20.0)
    lines = scaling_table([ScalingPoint(5, 1, 5_000, [ours, peer])], "peer")
    assert lines[1].split()[:4] == ["5", "x", "1", "5,000"]
    assert lines[1].rstrip().endswith("| 20.0")  # 20 us/field against 1 us/field
    assert scaling_table([], "peer") == []


def test_requests_for_fills_the_time_within_bounds() -> None:
    assert requests_for(3.0, Answer({}, 0.5)) == 6
    assert requests_for(3.0, Answer({}, 10.0)) == 3
    assert requests_for(3.0, Answer({}, 0.0)) == 2000


def test_peer_node_ids_are_postgraphiles() -> None:
    row = uuid.UUID("4923e2ef-431c-474d-a1e0-01dfe9d1cd33")
    # As PostGraphile 5 answered for this workspace in the bench database.
    expected = "WyJXb3Jrc3BhY2UiLCI0OTIzZTJlZi00MzFjLTQ3NGQtYTFlMC0wMWRmZTlkMWNkMzMiXQ=="
    assert peer_queries.node_id("Workspace", row) == expected
    body = orjson.loads(peer_queries.dashboard_body(row, 5, 10, 20))
    assert body["variables"] == {"id": expected, "clients": 5, "campaigns": 10, "assets": 20}


def test_slow_requests_are_measured_by_count() -> None:
    window = Load(16, 10.0, 2.0)
    assert load_for(window, Answer({}, 0.01)) == window  # 1,000 expected: the window is enough
    assert load_for(window, Answer({}, 1.0)) == Load(16, 0.0, 2.0, 16)
    assert load_for(window, Answer({}, 0.2)) == Load(16, 0.0, 2.0, 50)
    assert load_for(window, Answer({}, 0.1)) == window  # 100 expected, 4 bursts of 16 or more
