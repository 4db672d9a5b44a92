"""kill -9 during VIDEO_PROCESSING: after a restart the job finishes, no scene rendered twice.
kill -9 right after createJob, again and again: every job so created completes."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.fake_replicate import FakeReplicate, running_fake
from tests.graphql import REGISTER, signup
from tests.processes import TIMEOUT, run_cli, server_process
from tests.test_generation_crash import _gql, _until
from tests.test_jobs import brief
from tests.workers import HEAVY, free_port

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


JOBS = """query($ids: [ID!]!) { nodes(ids: $ids) { ... on Job {
  id status errorCode finalVideo { status } } } }"""
APPROVE = "mutation($j: ID!) { approveStoryboard(jobId: $j) { job { id } } }"
KILLS = 20
FINAL_JOB = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
DRIVE_SECONDS = 180


def _drive(base: str, token: str, job_ids: list[str]) -> list[dict[str, Any]]:
    """Approve each storyboard once it is ready; the jobs once all of them are final."""
    approved: set[str] = set()
    jobs: list[dict[str, Any]] = []
    deadline = time.monotonic() + DRIVE_SECONDS
    while time.monotonic() < deadline:
        jobs = _gql(base, JOBS, {"ids": job_ids}, token)["nodes"]
        for job in jobs:
            if job["status"] == "STORYBOARD_READY" and job["id"] not in approved:
                _gql(base, APPROVE, {"j": job["id"]}, token)
                approved.add(job["id"])
        if all(job["status"] in FINAL_JOB for job in jobs):
            return jobs
        time.sleep(0.2)
    pytest.fail(f"jobs still unfinished: {Counter(job['status'] for job in jobs)}")


@HEAVY
def test_jobs_created_right_before_a_kill_all_complete(
    tmp_path: Path, postgres_only_url: str
) -> None:
    env = {
        "ADSTUDIO_DATABASE_URL": postgres_only_url,
        "ADSTUDIO_LOCAL_LATENCY_SECONDS": "0.05",
        "ADSTUDIO_GENERATION_POLL_SECONDS": "0.05",
        "ADSTUDIO_WORKSPACE_CONCURRENCY": str(KILLS),
        "ADSTUDIO_SECRET_KEY": "job-kills-" + "k" * 32,
    }
    port = free_port()
    job_ids: list[str] = []
    for n in range(KILLS):
        with server_process(tmp_path, port, **env) as (base, process):
            if n == 0:
                token, client, campaign = _account(base)
            else:  # the retry of the previous create, killed as it answered: the same job
                again = _create_job(base, token, client, campaign, f"brief-{n - 1}")
                assert again == job_ids[-1]
            job_ids.append(_create_job(base, token, client, campaign, f"brief-{n}"))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=TIMEOUT)
    assert len(set(job_ids)) == KILLS
    with server_process(tmp_path, port, **env) as (base, _):
        assert _create_job(base, token, client, campaign, f"brief-{KILLS - 1}") == job_ids[-1]
        jobs = _drive(base, token, job_ids)
    assert [(job["status"], job["errorCode"]) for job in jobs] == [("COMPLETED", None)] * KILLS
    assert all(job["finalVideo"]["status"] == "READY" for job in jobs)


def _account(base: str) -> tuple[str, str, str]:
    """A new user's access token, and a client and campaign of theirs."""
    data = _gql(
        base, REGISTER, signup({"email": "k@example.com", "password": "long password", "name": "K"})
    )
    token = data["signIn"]["accessToken"]
    workspace = data["signIn"]["user"]["memberships"][0]["workspace"]["id"]
    client = _gql(base, CLIENT, {"w": workspace}, token)["createClient"]["client"]["id"]
    campaign = _gql(base, CAMPAIGN, {"c": client}, token)["createCampaign"]["campaign"]["id"]
    return token, client, campaign


def _create_job(base: str, token: str, client: str, campaign: str, key: str) -> str:
    job_brief = brief(client, campaign, 15)
    # square clips come out of the local provider at the final video's size: the cheapest compose
    job_brief["creative"]["videoSpecs"]["aspectRatio"] = "1:1"
    variables = {"i": {**job_brief, "idempotencyKey": key}}
    return str(_gql(base, CREATE, variables, token)["createJob"]["job"]["id"])
