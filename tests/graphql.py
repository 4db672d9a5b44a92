"""A small GraphQL client for tests, over the app's real HTTP interface."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

import httpx

from tests.workers import worker_id

_emails = itertools.count()


@dataclass
class Result:
    data: Any
    errors: list[dict[str, Any]]
    response: httpx.Response

    @property
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code", "") for e in self.errors]

    @property
    def code(self) -> str:
        assert len(self.errors) == 1, self.errors
        return self.codes[0]

    def ok(self) -> Any:
        assert not self.errors, self.errors
        return self.data


class GraphQL:
    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.token = token

    def as_(self, token: str | None) -> GraphQL:
        return GraphQL(self.http, token)

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, /, **headers: str
    ) -> Result:
        sent = {k.replace("_", "-"): v for k, v in headers.items()}
        if self.token and "Authorization" not in sent:
            sent["Authorization"] = f"Bearer {self.token}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )
        body = response.json()
        return Result(body.get("data"), body.get("errors") or [], response)


REGISTER = """
mutation Register($i: RegisterInput!, $l: LoginInput!) {
  register(input: $i) { accepted }
  signIn: login(input: $l) {
    accessToken refreshToken
    user { id email memberships { id role workspace { id } } }
  }
}
"""


def signup(fields: dict[str, str]) -> dict[str, Any]:
    """Variables for :data:`REGISTER`: register, then sign in (``signIn``) in one request."""
    return {"i": fields, "l": {"email": fields["email"], "password": fields["password"]}}


@dataclass
class Account:
    gql: GraphQL
    email: str
    password: str
    user_id: str
    workspace_id: str
    refresh_token: str


async def register(http: httpx.AsyncClient, name: str = "Ann") -> Account:
    email = f"user-{worker_id()}-{next(_emails)}@example.com"
    password = "correct horse battery"
    result = await GraphQL(http)(
        REGISTER, signup({"email": email, "password": password, "name": name})
    )
    payload = result.ok()["signIn"]
    membership = payload["user"]["memberships"][0]
    return Account(
        gql=GraphQL(http, payload["accessToken"]),
        email=email,
        password=password,
        user_id=payload["user"]["id"],
        workspace_id=membership["workspace"]["id"],
        refresh_token=payload["refreshToken"],
    )


async def create_client(gql: GraphQL, workspace_id: str, name: str = "Fizz Cola") -> str:
    result = await gql(
        "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } } }",
        {"i": {"workspaceId": workspace_id, "name": name}},
    )
    return str(result.ok()["createClient"]["client"]["id"])


async def create_campaign(gql: GraphQL, client_id: str, name: str = "Summer") -> str:
    result = await gql(
        "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign { id } } }",
        {"i": {"clientId": client_id, "name": name, "goal": "Sell more"}},
    )
    return str(result.ok()["createCampaign"]["campaign"]["id"])


INVITE = """
mutation($i: InviteMemberInput!) {
  inviteMember(input: $i) { invitation { id email role status } }
}
"""

ACCEPT = """
mutation($i: InvitationInput!) {
  acceptInvitation(input: $i) { membership { id role } invitation { status } }
}
"""


async def invite(owner: Account, email: str, role: str, workspace_id: str | None = None) -> str:
    result = await owner.gql(
        INVITE,
        {"i": {"workspaceId": workspace_id or owner.workspace_id, "email": email, "role": role}},
    )
    return str(result.ok()["inviteMember"]["invitation"]["id"])


async def add_member(owner: Account, member: Account, role: str) -> str:
    """Invite ``member`` into ``owner``'s workspace and accept as them; the membership's ID."""
    invitation_id = await invite(owner, member.email, role)
    result = await member.gql(ACCEPT, {"i": {"invitationId": invitation_id}})
    return str(result.ok()["acceptInvitation"]["membership"]["id"])


UPLOAD = """
mutation($file: Upload!, $input: AssetPlacementInput!) {
  uploadAsset(file: $file, input: $input) {
    asset {
      id name kind format mimeType size status tags url source
      ... on ImageAsset { width height }
      ... on VideoAsset { width height duration thumbnailUrl }
      ... on AudioAsset { duration waveformUrl }
      ... on DocumentAsset { pageCount }
    }
  }
}
"""


async def upload(
    gql: GraphQL,
    filename: str,
    content: bytes,
    mime: str,
    placement: dict[str, Any],
    *,
    preflight: bool = True,
) -> Result:
    """A GraphQL multipart request (the spec Apollo and urql upload clients speak)."""
    operations = {"query": UPLOAD, "variables": {"file": None, "input": placement}}
    headers = {"Apollo-Require-Preflight": "true"} if preflight else {}
    if gql.token:
        headers["Authorization"] = f"Bearer {gql.token}"
    response = await gql.http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, content, mime)},
        headers=headers,
    )
    body = response.json()
    return Result(body.get("data"), body.get("errors") or [], response)
