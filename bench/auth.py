"""What authenticating one request costs: the credentials read and resolved, cache warm.

    python -m bench.auth [--rounds 5] [--count 20000]

Serves nothing: builds the app in this process on a temporary SQLite file, registers a user
and signs in, then, per round, times ``count`` authentications of a request carrying the
bearer token (reading the credentials from the headers, then ``app.auth.resolve.authenticate``,
which the credential cache answers) and ``count`` with an API key, on the process clock.
Prints the CPU time per authentication (median and range over the rounds) and the first run
on a cold cache for comparison. The target: at most 0.2 ms (200 µs) per request.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import orjson
from starlette.datastructures import Headers

from app import migrations
from app.auth.credentials import Credentials, read_credentials
from app.auth.resolve import authenticate
from app.runtime import Runtime
from app.settings import Settings
from bench.inprocess import InProcess, in_process
from bench.seed import ARGON2_MEMORY_KIB, ARGON2_TIME_COST

REGISTER = """
mutation($i: RegisterInput!, $l: LoginInput!) {
  register(input: $i) { accepted }
  login(input: $l) { accessToken }
}
"""
CREATE_KEY = 'mutation { createApiKey(input: {name: "bench"}) { secret } }'
TARGET_MICROSECONDS = 200.0


async def _sign_in(app: InProcess) -> tuple[str, str]:
    email, password = "auth-bench@example.com", "correct horse battery"
    variables = {
        "i": {"email": email, "password": password, "name": "Bench"},
        "l": {"email": email, "password": password},
    }
    body = orjson.dumps({"query": REGISTER, "variables": variables})
    token = str((await app.post(body))["data"]["login"]["accessToken"])
    key = await app.post(orjson.dumps({"query": CREATE_KEY}), token)
    return token, str(key["data"]["createApiKey"]["secret"])


async def _round(runtime: Runtime, headers: Headers, count: int) -> float:
    """Microseconds of CPU per authentication, over ``count`` of them."""
    started = time.process_time()
    for _ in range(count):
        credentials = read_credentials(headers, {})
        assert credentials is not None
        await authenticate(runtime, credentials)
    return (time.process_time() - started) * 1e6 / count


async def _cold(runtime: Runtime, credentials: Credentials) -> float:
    runtime.credentials.clear()
    started = time.process_time()
    await authenticate(runtime, credentials)
    return (time.process_time() - started) * 1e6


async def measure(settings: Settings, rounds: int, count: int) -> None:
    async with in_process(settings) as app:
        runtime: Runtime = app.app.state.runtime
        token, key = await _sign_in(app)
        for name, headers in (
            ("bearer token", Headers({"authorization": f"Bearer {token}"})),
            ("API key", Headers({"x-api-key": key})),
        ):
            credentials = read_credentials(headers, {})
            assert credentials is not None
            cold = await _cold(runtime, credentials)
            figures = [await _round(runtime, headers, count) for _ in range(rounds)]
            median = statistics.median(figures)
            verdict = "meets" if median <= TARGET_MICROSECONDS else "misses"
            print(
                f"{name}: {median:.1f} µs CPU per authentication, cache warm "
                f"({min(figures):.1f} to {max(figures):.1f} over {rounds} rounds of {count}); "
                f"cold: {cold:.0f} µs; {verdict} the {TARGET_MICROSECONDS:.0f} µs target"
            )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.auth", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="adstudio-auth-") as scratch:
        settings = Settings(
            env="test",
            secret_key="x" * 48,
            var_dir=Path(scratch),
            argon2_time_cost=ARGON2_TIME_COST,
            argon2_memory_kib=ARGON2_MEMORY_KIB,
        )
        migrations.upgrade(settings.resolved_database_url)  # before the event loop runs
        asyncio.run(measure(settings, args.rounds, args.count))


if __name__ == "__main__":
    main()
