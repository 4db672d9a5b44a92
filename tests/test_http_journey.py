"""A new user's first minutes, over real HTTP against a served process (`adstudio serve`)."""

from __future__ import annotations

from typing import Any

import httpx

REGISTER = "mutation($i: RegisterInput!) { register(input: $i) { accepted } }"
LOGIN = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }"
VIEWER = "{ viewer { memberships { workspace { id } } } }"


def _post(server: str, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{server}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 200
    return response.json()


def _sign_up(server: str, email: str) -> tuple[str, str]:
    credentials = {"email": email, "password": "a long enough password"}
    assert "errors" not in _post(server, REGISTER, {"i": {**credentials, "name": email}})
    token = _post(server, LOGIN, {"i": credentials})["data"]["login"]["accessToken"]
    workspace = _post(server, VIEWER, {}, token)["data"]["viewer"]["memberships"][0]["workspace"]
    return token, workspace["id"]


def test_register_login_create_and_read_back(server: str) -> None:
    token, workspace_id = _sign_up(server, "ann@example.com")
    client = _post(
        server,
        "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } } }",
        {"i": {"workspaceId": workspace_id, "name": "Fizz Cola"}},
        token,
    )["data"]["createClient"]["client"]
    campaign = _post(
        server,
        "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign { id } } }",
        {"i": {"clientId": client["id"], "name": "Summer", "goal": "Sell"}},
        token,
    )["data"]["createCampaign"]["campaign"]

    page = _post(
        server,
        "query($w: ID!) { node(id: $w) { ... on Workspace { clients(first: 10) { totalCount"
        " edges { node { id name campaigns(first: 10) { nodes { id name } } } } } } } }",
        {"w": workspace_id},
        token,
    )["data"]["node"]["clients"]
    assert page["totalCount"] == 1
    node = page["edges"][0]["node"]
    assert node == {
        "id": client["id"],
        "name": "Fizz Cola",
        "campaigns": {"nodes": [{"id": campaign["id"], "name": "Summer"}]},
    }
    read = _post(server, "query($id: ID!) { node(id: $id) { id } }", {"id": campaign["id"]}, token)
    assert read["data"]["node"]["id"] == campaign["id"]

    other_token, _ = _sign_up(server, "bob@example.com")
    for object_id in (workspace_id, client["id"], campaign["id"]):
        denied = _post(
            server, "query($id: ID!) { node(id: $id) { id } }", {"id": object_id}, other_token
        )
        assert denied["errors"][0]["extensions"]["code"] == "NOT_FOUND"
