"""``adstudio jobs watch`` against a served process: a progress bar until COMPLETED."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.graphql import REGISTER, signup
from tests.processes import TIMEOUT, command_env
from tests.test_generation_crash import _gql
from tests.test_jobs import brief

CREATE = "mutation($i: CreateJobInput!) { createJob(input: $i) { job { id } } }"
STATUS = "query($id: ID!) { node(id: $id) { ... on Job { status } } }"


def test_watch_shows_progress_until_the_job_completes(server: str, tmp_path: Path) -> None:
    data = _gql(
        server,
        REGISTER,
        signup({"email": "w@example.com", "password": "long password", "name": "W"}),
    )
    token = data["signIn"]["accessToken"]
    workspace = data["signIn"]["user"]["memberships"][0]["workspace"]["id"]
    client = _gql(
        server,
        'mutation($w: ID!) { createClient(input: {workspaceId: $w, name: "C"}) { client { id } } }',
        {"w": workspace},
        token,
    )["createClient"]["client"]["id"]
    campaign = _gql(
        server,
        'mutation($c: ID!) { createCampaign(input: {clientId: $c, name: "N", goal: "G"}) { campaign { id } } }',
        {"c": client},
        token,
    )["createCampaign"]["campaign"]["id"]
    job_id = _gql(server, CREATE, {"i": brief(client, campaign, 15)}, token)["createJob"]["job"][
        "id"
    ]
    watcher = subprocess.Popen(
        [sys.executable, "-m", "app", "jobs", "watch", job_id, "--url", server, "--token", token],
        env=command_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if _gql(server, STATUS, {"id": job_id}, token)["node"]["status"] == "STORYBOARD_READY":
            _gql(
                server,
                "mutation($j: ID!) { approveStoryboard(jobId: $j) { job { id } } }",
                {"j": job_id},
                token,
            )
            break
        time.sleep(0.2)
    out, err = watcher.communicate(timeout=TIMEOUT * 4)
    assert watcher.returncode == 0, err
    assert "STORYBOARD_READY: review" in out
    assert "100.0%" in out
    assert out.strip().endswith("COMPLETED")
