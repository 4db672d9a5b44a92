"""Running the ``adstudio`` command as a real process, and serving it on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from tests.workers import free_port

TIMEOUT = 30
TEST_SECRET = "process-test-secret-" + "k" * 32

# Suites register and sign in many users from one address; tests of the limits set their own.
RELAXED_CREDENTIAL_LIMITS = {
    f"{action}_{per}rate_limit": "10000/minute"
    for action in ("login", "register", "refresh", "api_key")
    for per in ("", "address_")
}


def command_env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADSTUDIO_")}
    env["ADSTUDIO_VAR_DIR"] = str(tmp_path / "var")
    env["ADSTUDIO_ARGON2_MEMORY_KIB"] = "1024"
    env["ADSTUDIO_ARGON2_TIME_COST"] = "1"
    for name, rate in RELAXED_CREDENTIAL_LIMITS.items():
        env[f"ADSTUDIO_{name.upper()}"] = rate
    env.update(values)
    return env


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env=command_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=tmp_path,
        check=False,
    )


@contextmanager
def served(tmp_path: Path, **env: str) -> Iterator[str]:
    """Migrate, then ``adstudio serve`` on a free port; yields the base URL once ready."""
    migrated = run_cli(tmp_path, "migrate", **env)
    assert migrated.returncode == 0, migrated.stderr
    with server_process(tmp_path, free_port(), **env) as (base, _process):
        yield base


@contextmanager
def server_process(
    tmp_path: Path, port: int, **env: str
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``adstudio serve`` on ``port``; stopped (if still alive) when the block ends."""
    with _serving(tmp_path, port, env) as (base, process):
        _wait_until_ready(base, process)
        yield base, process


@contextmanager
def cluster_processes(
    tmp_path: Path, *, servers: list[dict[str, str]], workers: list[dict[str, str]]
) -> Iterator[list[str]]:
    """``adstudio serve`` per server environment and ``adstudio worker`` per worker one, all
    starting at once. Yields the servers' base URLs once every process is ready; stops them
    all when the block ends (each worker must exit cleanly)."""
    with ExitStack() as stack:
        serving = [stack.enter_context(_serving(tmp_path, free_port(), env)) for env in servers]
        working = [stack.enter_context(_working(tmp_path, n, env)) for n, env in enumerate(workers)]
        for base, process in serving:
            _wait_until_ready(base, process)
        for log, process in working:
            _wait_for_line(log, process, "running")
        yield [base for base, _ in serving]


@contextmanager
def _working(
    tmp_path: Path, number: int, env: dict[str, str]
) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    path = tmp_path / f"worker-{number}.log"
    with path.open("a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "worker"],
            env=command_env(tmp_path, **env),
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            yield path, process
        finally:
            process.terminate()
            assert process.wait(timeout=TIMEOUT) == 0


def _wait_for_line(path: Path, process: subprocess.Popen[str], text: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"worker exited early with code {process.returncode}")
        if text in path.read_text():
            return
        time.sleep(0.1)
    pytest.fail("worker did not start in time")


@contextmanager
def _serving(
    tmp_path: Path, port: int, env: dict[str, str]
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    log = (tmp_path / f"server-{port}.log").open("a")
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        env=command_env(tmp_path, **env),
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=TIMEOUT)
        log.close()


def _wait_until_ready(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited early with code {process.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail("server did not become ready in time")
