"""kill -9 during VIDEO_PROCESSING: after a restart the job finishes, no scene rendered twice."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from tests.fake_replicate import FakeReplicate, running_fake
from tests.graphql import REGISTER, signup
from tests.processes import TIMEOUT, free_port, run_cli, server_process
from tests.test_generation_crash import _gql, _until
from tests.test_jobs import brief

JOB = "query($id: ID!) { node(id: $id) { ... on Job { status finalVideo { id } } } }"
CLIENT = 'mutation($w: ID!) { createClient(input: {workspaceId: $w, name: "C"}) { client { id } } }'
CAMPAIGN = 'mutation($c: ID!) { createCampaign(input: {clientId: $c, name: "N", goal: "G"}) { campaign { id } } }'
CREATE = "mutation($i: CreateJobInput!) { createJob(input: $i) { job { id } } }"


VIDEOS = """query($w: ID!) { node(id: $w) { ... on Workspace {
  generations(filter: {kind: VIDEO}) { nodes { predictionId } } } } }"""


def _recorded(base: str, workspace: str, token: str) -> int:
    nodes = _gql(base, VIDEOS, {"w": workspace}, token)["node"]["generations"]["nodes"]
    return sum(1 for node in nodes if node["predictionId"])


@pytest.fixture
def fake() -> Any:
    with running_fake() as server:
        yield server


def test_a_killed_render_finishes_after_restart_without_rendering_twice(
    tmp_path: Path, fake: FakeReplicate, database_url: str
) -> None:
    env = {
        "ADSTUDIO_DATABASE_URL": database_url,
        "ADSTUDIO_REPLICATE_API_TOKEN": fake.token,
        "ADSTUDIO_REPLICATE_BASE_URL": fake.base,
        "ADSTUDIO_GENERATION_POLL_SECONDS": "0.05",
        "ADSTUDIO_WORKSPACE_CONCURRENCY": "10",
        "ADSTUDIO_SECRET_KEY": "job-crash-" + "j" * 32,
    }
    assert run_cli(tmp_path, "migrate", **env).returncode == 0
    port = free_port()
    with server_process(tmp_path, port, **env) as (base, process):
        data = _gql(
            base,
            REGISTER,
            signup({"email": "j@example.com", "password": "long password", "name": "J"}),
        )
        token = data["signIn"]["accessToken"]
        workspace = data["signIn"]["user"]["memberships"][0]["workspace"]["id"]
        client = _gql(base, CLIENT, {"w": workspace}, token)["createClient"]["client"]["id"]
        campaign = _gql(base, CAMPAIGN, {"c": client}, token)["createCampaign"]["campaign"]["id"]
        job_id = _gql(base, CREATE, {"i": brief(client, campaign, 15)}, token)["createJob"]["job"][
            "id"
        ]
        _until(
            lambda: _gql(base, JOB, {"id": job_id}, token)["node"]["status"] == "STORYBOARD_READY",
            "the storyboard",
            timeout=60,
        )
        fake.mode = "hold"
        _gql(
            base,
            "mutation($j: ID!) { approveStoryboard(jobId: $j) { job { id } } }",
            {"j": job_id},
            token,
        )
        # the renders are running upstream and their prediction ids are recorded: mid-wait
        _until(lambda: _recorded(base, workspace, token) == 3, "the scene renders to start")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=TIMEOUT)
    fake.release_all()
    with server_process(tmp_path, port, **env) as (base, _):
        _until(
            lambda: (
                _gql(base, JOB, {"id": job_id}, token)["node"]["status"] in {"COMPLETED", "FAILED"}
            ),
            "the job to finish after the restart",
            timeout=120,
        )
        job = _gql(base, JOB, {"id": job_id}, token)["node"]
    assert job["status"] == "COMPLETED", job
    assert job["finalVideo"]
    assert fake.creations["bytedance/seedance-1-lite"] == 3
    assert fake.creations["meta/musicgen"] == 1
    assert fake.creations["black-forest-labs/flux-schnell"] == 3
