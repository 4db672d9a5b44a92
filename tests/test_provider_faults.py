"""The fault matrix: against the fake Replicate, every generation ends, coded, paid once.

Each fault holds for every request about its generations (the fake's ``sticky`` faults), so
the workflow's retries really run out. Five generations per fault run at once; afterwards
every generation is terminal with a code, no generation has more than one prediction, and
every upstream prediction is terminal or cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.conftest import app_client, make_settings
from tests.fake_replicate import FakeReplicate, Prediction, running_fake
from tests.generation_helpers import generate, wait_final
from tests.graphql import register

PER_FAULT = 5
# fault -> (status, error code, predictions per generation, upstream status)
MATRIX: dict[str, tuple[str, str | None, int, str | None]] = {
    "create:429": ("FAILED", "PROVIDER_UNAVAILABLE", 0, None),
    "create:503": ("FAILED", "PROVIDER_UNAVAILABLE", 0, None),
    "create:500-after": ("SUCCEEDED", None, 1, "succeeded"),
    "create:drop-after": ("SUCCEEDED", None, 1, "succeeded"),
    "get:401": ("FAILED", "PROVIDER_ERROR", 1, "canceled"),
    "get:drop": ("FAILED", "TIMEOUT", 1, "canceled"),
    "get:slower": ("SUCCEEDED", None, 1, "succeeded"),
    "file:500": ("FAILED", "PROVIDER_UNAVAILABLE", 1, "succeeded"),
    "fail": ("FAILED", "PROVIDER_ERROR", 1, "failed"),
    "hold": ("FAILED", "TIMEOUT", 1, "canceled"),
}


@pytest.fixture
def fake() -> Iterator[FakeReplicate]:
    with running_fake() as server:
        server.sticky = {fault: fault for fault in MATRIX}
        yield server


async def test_every_fault_ends_every_generation_coded_and_paid_once(
    database_url: str, tmp_path: Path, fake: FakeReplicate
) -> None:
    settings = make_settings(
        database_url,
        tmp_path,
        engine_enabled=True,
        generation_poll_seconds=0.05,
        generation_deadline_seconds=10,
        workspace_concurrency=100,
        image_rate_limit="1000/minute",
        replicate_api_token=SecretStr(fake.token),
        replicate_base_url=fake.base,
    )
    async with app_client(settings) as http:
        account = await register(http)
        started = {
            f"{fault}#{n}": await generate(
                account.gql,
                "image",
                {"workspaceId": account.workspace_id, "prompt": f"{fault}#{n}"},
            )
            for fault in MATRIX
            for n in range(PER_FAULT)
        }
        finished = await asyncio.gather(
            *(wait_final(account.gql, g["id"], timeout=150) for g in started.values())
        )
    upstream: dict[str, list[Prediction]] = {}
    for prediction in fake.predictions.values():
        upstream.setdefault(prediction.input["prompt"], [])
        upstream[prediction.input["prompt"]].append(prediction)
    seen = []
    for prompt, done in zip(started, finished, strict=True):
        status, code, predictions, upstream_status = MATRIX[prompt.partition("#")[0]]
        made = upstream.get(prompt, [])
        seen.append((prompt, done["status"], done["errorCode"], len(made)))
        assert (done["status"], done["errorCode"]) == (status, code), (prompt, done)
        assert len(made) == predictions, (prompt, [p.id for p in made])
        if upstream_status is not None:
            assert made[0].status == upstream_status, (prompt, made[0].status)
        if prompt.startswith("file:"):
            assert done["cost"] is not None, "a prediction that succeeded upstream was paid"
    assert all(p.status in {"succeeded", "failed", "canceled"} for p in fake.predictions.values())
    print("\n" + "\n".join(map(str, seen)))
