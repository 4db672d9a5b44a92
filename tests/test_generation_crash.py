"""kill -9 in the middle of a generation: after a restart it completes, paid for once."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import col

from app.ids import decode_global_id
from app.models import Generation
from tests.databases import blocking_url
from tests.fake_replicate import FakeReplicate, running_fake
from tests.graphql import REGISTER, signup
from tests.processes import TIMEOUT, run_cli, server_process
from tests.workers import free_port

GENERATE = "mutation($i: GenerateImageInput!) { generateImage(input: $i) { generation { id } } }"
READ = "query($id: ID!) { generation(id: $id) { status predictionId outputAsset { status } } }"


def _gql(base: str, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=10,
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def _until(check: Any, what: str, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def _env(fake: FakeReplicate, database_url: str) -> dict[str, str]:
    """A server on ``database_url`` whose Replicate is the fake."""
    return {
        "ADSTUDIO_DATABASE_URL": database_url,
        "ADSTUDIO_REPLICATE_API_TOKEN": fake.token,
        "ADSTUDIO_REPLICATE_BASE_URL": fake.base,
        "ADSTUDIO_GENERATION_POLL_SECONDS": "0.05",
        "ADSTUDIO_SECRET_KEY": "crash-test-secret-" + "s" * 32,
    }


@pytest.fixture
def fake() -> Any:
    with running_fake() as server:
        yield server


def test_a_killed_engine_resumes_and_pays_once(
    tmp_path: Path, fake: FakeReplicate, database_url: str
) -> None:
    env = _env(fake, database_url)
    assert run_cli(tmp_path, "migrate", **env).returncode == 0
    fake.mode = "hold"
    port = free_port()
    with server_process(tmp_path, port, **env) as (base, process):
        token, generation_id, _ = _held_generation(base, "k@example.com")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=TIMEOUT)
    assert sum(fake.creations.values()) == 1
    fake.release_all()
    with server_process(tmp_path, port, **env) as (base, _):
        done = _until(
            lambda: (
                (g := _gql(base, READ, {"id": generation_id}, token)["generation"])["status"]
                in {"SUCCEEDED", "FAILED"}
                and g
            ),
            "the generation to finish after the restart",
            timeout=60,
        )
    assert done["status"] == "SUCCEEDED", done
    assert done["outputAsset"]["status"] == "READY"
    assert sum(fake.creations.values()) == 1


CANCEL = "mutation($id: ID!) { cancelGeneration(input: {id: $id}) { generation { status } } }"


def _held_generation(base: str, email: str) -> tuple[str, str, str]:
    """A signed-in token, a generation and its prediction id, held running upstream."""
    data = _gql(base, REGISTER, signup({"email": email, "password": "long password", "name": "C"}))
    token = data["signIn"]["accessToken"]
    workspace = data["signIn"]["user"]["memberships"][0]["workspace"]["id"]
    generation = _gql(base, GENERATE, {"i": {"workspaceId": workspace, "prompt": "x"}}, token)
    generation_id = generation["generateImage"]["generation"]["id"]
    prediction_id = _until(
        lambda: _gql(base, READ, {"id": generation_id}, token)["generation"]["predictionId"],
        "the prediction to be created",
    )
    return token, generation_id, str(prediction_id)


@pytest.mark.parametrize(
    "moment", ["killed right after the cancel", "cancelled right after a restart"]
)
def test_a_cancel_reaches_the_provider_across_a_kill(
    tmp_path: Path, fake: FakeReplicate, database_url: str, moment: str
) -> None:
    env = _env(fake, database_url)
    assert run_cli(tmp_path, "migrate", **env).returncode == 0
    fake.mode = "hold"
    port = free_port()
    with server_process(tmp_path, port, **env) as (base, process):
        token, generation_id, prediction_id = _held_generation(base, "c@example.com")
        if moment == "killed right after the cancel":
            _gql(base, CANCEL, {"id": generation_id}, token)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=TIMEOUT)
    with server_process(tmp_path, port, **env) as (base, _):
        if moment == "cancelled right after a restart":
            _gql(base, CANCEL, {"id": generation_id}, token)
        _until(lambda: fake.cancels[prediction_id] >= 1, "the provider to receive the cancel", 30)
        status = _gql(base, READ, {"id": generation_id}, token)["generation"]["status"]
    assert status == "CANCELED"
    assert fake.predictions[prediction_id].status == "canceled"
    assert sum(fake.creations.values()) == 1


@contextmanager
def _writes_held(database_url: str, generation_id: uuid.UUID) -> Iterator[None]:
    """The generation's row locked against the server's writes (on SQLite, the database)."""
    url = make_url(blocking_url(database_url))
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(url.database), isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            yield
        finally:
            holder.close()
        return
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.select(col(Generation.id))
                .where(col(Generation.id) == generation_id)
                .with_for_update()
            )
            yield
    finally:
        engine.dispose()


def _recorded(database_url: str, generation_id: uuid.UUID) -> tuple[int, str | None]:
    """What our table knows of the create: attempts made, and the prediction id."""
    engine = sa.create_engine(blocking_url(database_url))
    try:
        with engine.connect() as connection:
            row = connection.execute(
                sa.select(col(Generation.attempts), col(Generation.provider_prediction_id)).where(
                    col(Generation.id) == generation_id
                )
            ).one()
    finally:
        engine.dispose()
    return int(row[0]), row[1]


def _kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=TIMEOUT)


class TestAKillDuringTheCreateCall:
    """Whatever the moment, the generation ends with exactly one prediction, and succeeds."""

    @pytest.mark.parametrize(
        "moment", ["before it was created", "before it was answered", "before it was recorded"]
    )
    def test_leaves_one_prediction_that_succeeds_after_a_restart(
        self, tmp_path: Path, fake: FakeReplicate, database_url: str, moment: str
    ) -> None:
        env = _env(fake, database_url)
        gate = fake.hold_create("lost", after_create=moment != "before it was created")
        port = free_port()
        with server_process(tmp_path, port, **env) as (base, process):
            token, workspace = _signed_in(base, "l@example.com")
            variables = {"i": {"workspaceId": workspace, "prompt": "lost"}}
            generation = _gql(base, GENERATE, variables, token)["generateImage"]["generation"]
            row = decode_global_id(generation["id"]).id
            assert gate.arrived.wait(TIMEOUT), "the create never reached the provider"
            if moment == "before it was recorded":
                with _writes_held(database_url, row):
                    gate.open()
                    assert gate.answered.wait(TIMEOUT)
                    _kill(process)
            else:
                _kill(process)
                gate.drop()
        assert _recorded(database_url, row) == (1, None)
        assert len(fake.marked(row.hex)) == (0 if moment == "before it was created" else 1)
        fake.add_foreign(2 * fake.page_size)  # ours is two pages down the provider's list
        with server_process(tmp_path, port, **env) as (base, _):
            done = _until(
                lambda: (
                    (g := _gql(base, READ, {"id": generation["id"]}, token)["generation"])["status"]
                    in {"SUCCEEDED", "FAILED"}
                    and g
                ),
                "the generation to finish after the restart",
            )
        assert done["status"] == "SUCCEEDED", done
        assert done["outputAsset"]["status"] == "READY"
        [prediction] = fake.marked(row.hex)
        assert done["predictionId"] == prediction.id
        assert sum(fake.creations.values()) == 1
        assert fake.running() == []


def _signed_in(base: str, email: str) -> tuple[str, str]:
    """A new user's access token and workspace id."""
    data = _gql(base, REGISTER, signup({"email": email, "password": "long password", "name": "L"}))
    return data["signIn"]["accessToken"], data["signIn"]["user"]["memberships"][0]["workspace"][
        "id"
    ]
