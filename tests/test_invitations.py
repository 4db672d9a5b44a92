"""Invitations: nobody joins a workspace without accepting, and inviting reveals no accounts."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import ManualClock
from app.ids import decode_global_id
from app.models import Invitation
from app.models.enums import Role
from app.services.invitations import MAX_PENDING_PER_WORKSPACE
from tests.conftest import app_client, make_settings
from tests.graphql import ACCEPT, INVITE, Account, GraphQL, add_member, invite, register

DECLINE = """
mutation($i: InvitationInput!) { declineInvitation(input: $i) { invitation { status } } }
"""
REVOKE = """
mutation($i: InvitationInput!) { revokeInvitation(input: $i) { invitation { status } } }
"""
MINE = """
{ viewer { invitations {
  id email role status workspaceName invitedByName expiresAt workspace { id }
} } }
"""
PENDING = """
query($w: ID!) { node(id: $w) { ... on Workspace {
  invitations(first: 50) { totalCount nodes { id email role status } }
  members { totalCount }
} } }
"""
NODE = "query($id: ID!) { node(id: $id) { id ... on Invitation { status email } } }"
WORKSPACE = "query($id: ID!) { node(id: $id) { id } }"
LOGIN = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }"


def _answer(gql: GraphQL, mutation: str, invitation_id: str) -> Any:
    return gql(mutation, {"i": {"invitationId": invitation_id}})


async def _pending(owner: Account) -> dict[str, Any]:
    result = await owner.gql(PENDING, {"w": owner.workspace_id})
    return dict(result.ok()["node"])


class TestInviteAndAccept:
    async def test_an_invitee_joins_only_by_accepting(
        self, http: httpx.AsyncClient, owner: Account
    ) -> None:
        invitee = await register(http, "Invitee")
        invitation_id = await invite(owner, invitee.email.upper(), "EDITOR")

        before = await _pending(owner)
        assert before["members"]["totalCount"] == 1  # not a member yet
        assert [n["email"] for n in before["invitations"]["nodes"]] == [invitee.email]
        hidden = await invitee.gql(WORKSPACE, {"id": owner.workspace_id})
        assert hidden.code == "NOT_FOUND"

        mine = (await invitee.gql(MINE)).ok()["viewer"]["invitations"]
        assert len(mine) == 1
        assert mine[0]["id"] == invitation_id
        assert mine[0]["role"] == "EDITOR"
        assert mine[0]["status"] == "PENDING"
        assert mine[0]["workspaceName"] == "Owner's workspace"
        assert mine[0]["invitedByName"] == "Owner"
        assert mine[0]["workspace"] is None  # not visible until joined

        accepted = (await _answer(invitee.gql, ACCEPT, invitation_id)).ok()["acceptInvitation"]
        assert accepted["membership"]["role"] == "EDITOR"
        assert accepted["invitation"]["status"] == "ACCEPTED"
        seen = await invitee.gql(WORKSPACE, {"id": owner.workspace_id})
        assert seen.ok()["node"]["id"] == owner.workspace_id
        after = await _pending(owner)
        assert after["members"]["totalCount"] == 2
        assert after["invitations"]["totalCount"] == 0
        assert (await invitee.gql(MINE)).ok()["viewer"]["invitations"] == []
        again = await _answer(invitee.gql, ACCEPT, invitation_id)
        assert again.code == "CONFLICT"
        assert again.errors[0]["extensions"]["reason"] == "INVITATION_ACCEPTED"

    async def test_the_answer_is_the_same_whether_or_not_the_email_has_an_account(
        self, http: httpx.AsyncClient, owner: Account
    ) -> None:
        existing = await register(http, "Existing")
        answers = []
        for email in (existing.email, "nobody-yet@example.com"):
            result = await owner.gql(
                INVITE, {"i": {"workspaceId": owner.workspace_id, "email": email, "role": "VIEWER"}}
            )
            invitation = result.ok()["inviteMember"]["invitation"]
            answers.append({k: v for k, v in invitation.items() if k not in {"id", "email"}})
            assert result.response.status_code == 200
        assert answers[0] == answers[1] == {"role": "VIEWER", "status": "PENDING"}

    async def test_someone_who_registers_later_finds_the_invitation(
        self, http: httpx.AsyncClient, owner: Account
    ) -> None:
        await invite(owner, "user-late@example.com", "VIEWER")
        late = await _register_as(http, "user-late@example.com")
        mine = (await late(MINE)).ok()["viewer"]["invitations"]
        assert [m["email"] for m in mine] == ["user-late@example.com"]
        assert (await _answer(late, ACCEPT, mine[0]["id"])).ok()

    async def test_declining_leaves_the_invitee_outside(
        self, http: httpx.AsyncClient, owner: Account
    ) -> None:
        invitee = await register(http, "Invitee")
        invitation_id = await invite(owner, invitee.email, "VIEWER")
        declined = (await _answer(invitee.gql, DECLINE, invitation_id)).ok()
        assert declined["declineInvitation"]["invitation"]["status"] == "DECLINED"
        late = await _answer(invitee.gql, ACCEPT, invitation_id)
        assert late.code == "CONFLICT"
        assert late.errors[0]["extensions"]["reason"] == "INVITATION_DECLINED"
        assert (await _pending(owner))["members"]["totalCount"] == 1

    async def test_a_revoked_invitation_cannot_be_accepted(
        self, http: httpx.AsyncClient, owner: Account
    ) -> None:
        invitee = await register(http, "Invitee")
        invitation_id = await invite(owner, invitee.email, "VIEWER")
        revoked = (await _answer(owner.gql, REVOKE, invitation_id)).ok()
        assert revoked["revokeInvitation"]["invitation"]["status"] == "REVOKED"
        refused = await _answer(invitee.gql, ACCEPT, invitation_id)
        assert refused.errors[0]["extensions"]["reason"] == "INVITATION_REVOKED"
        assert (await invitee.gql(MINE)).ok()["viewer"]["invitations"] == []
        assert (await _pending(owner))["invitations"]["totalCount"] == 0

    async def test_an_invitation_expires_after_seven_days(
        self, http: httpx.AsyncClient, owner: Account, clock: ManualClock
    ) -> None:
        invitee = await register(http, "Invitee")
        invitation_id = await invite(owner, invitee.email, "VIEWER")
        clock.advance(timedelta(days=7, seconds=1))
        token = await GraphQL(http)(
            LOGIN, {"i": {"email": invitee.email, "password": invitee.password}}
        )
        fresh = GraphQL(http, token.ok()["login"]["accessToken"])
        assert (await fresh(MINE)).ok()["viewer"]["invitations"] == []
        refused = await _answer(fresh, ACCEPT, invitation_id)
        assert refused.code == "CONFLICT"
        assert refused.errors[0]["extensions"]["reason"] == "INVITATION_EXPIRED"
        status = (await fresh(NODE, {"id": invitation_id})).ok()["node"]["status"]
        assert status == "EXPIRED"

    async def test_inviting_a_pending_email_again_renews_the_same_invitation(
        self, http: httpx.AsyncClient, owner: Account, clock: ManualClock
    ) -> None:
        first = await invite(owner, "again@example.com", "VIEWER")
        clock.advance(timedelta(days=6))
        await _relogin(owner, http)
        second = await invite(owner, "again@example.com", "EDITOR")
        assert second == first
        clock.advance(timedelta(days=2))  # past the first expiry, inside the renewed one
        await _relogin(owner, http)
        nodes = (await _pending(owner))["invitations"]["nodes"]
        assert [(n["id"], n["role"], n["status"]) for n in nodes] == [(first, "EDITOR", "PENDING")]


class TestWhoMayDoWhat:
    async def test_nobody_but_the_invitee_may_answer(
        self, http: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        invitee = await register(http, "Invitee")
        invitation_id = await invite(owner, invitee.email, "ADMIN")
        for mutation in (ACCEPT, DECLINE):
            assert (await _answer(stranger.gql, mutation, invitation_id)).code == "NOT_FOUND"
            assert (await _answer(owner.gql, mutation, invitation_id)).code == "NOT_FOUND"
        assert (await stranger.gql(NODE, {"id": invitation_id})).code == "NOT_FOUND"
        assert (await _answer(stranger.gql, REVOKE, invitation_id)).code == "NOT_FOUND"
        assert (await _answer(invitee.gql, REVOKE, invitation_id)).code == "NOT_FOUND"
        assert (await owner.gql(NODE, {"id": invitation_id})).ok()["node"]["status"] == "PENDING"
        assert (await invitee.gql(NODE, {"id": invitation_id})).ok()["node"]["id"]

    async def test_only_admins_invite_and_only_owners_invite_owners(
        self, http: httpx.AsyncClient, owner: Account
    ) -> None:
        admin, editor = await register(http, "Admin"), await register(http, "Editor")
        await add_member(owner, admin, "ADMIN")
        await add_member(owner, editor, "EDITOR")
        as_admin = await admin.gql(
            INVITE,
            {"i": {"workspaceId": owner.workspace_id, "email": "o@example.com", "role": "OWNER"}},
        )
        assert as_admin.code == "FORBIDDEN"
        assert await invite(admin, "a@example.com", "ADMIN", owner.workspace_id)
        as_editor = await editor.gql(
            INVITE, {"i": {"workspaceId": owner.workspace_id, "email": "v@example.com"}}
        )
        assert as_editor.code == "FORBIDDEN"
        listed = await editor.gql(PENDING, {"w": owner.workspace_id})
        assert listed.code == "FORBIDDEN"
        owners_invitation = await invite(owner, "o@example.com", "OWNER")
        assert (await _answer(admin.gql, REVOKE, owners_invitation)).code == "FORBIDDEN"

    async def test_a_member_cannot_be_invited_again(
        self, http: httpx.AsyncClient, owner: Account
    ) -> None:
        member = await register(http, "Member")
        await add_member(owner, member, "VIEWER")
        again = await owner.gql(
            INVITE, {"i": {"workspaceId": owner.workspace_id, "email": member.email}}
        )
        assert again.code == "CONFLICT"

    async def test_a_bad_email_is_bad_user_input(self, owner: Account) -> None:
        for email in ("not-an-email", "a@b", "x" * 320 + "@example.com", ""):
            result = await owner.gql(
                INVITE, {"i": {"workspaceId": owner.workspace_id, "email": email}}
            )
            assert result.code == "BAD_USER_INPUT", email

    async def test_a_key_bound_to_one_workspace_cannot_answer(
        self, http: httpx.AsyncClient, owner: Account
    ) -> None:
        invitee = await register(http, "Invitee")
        invitation_id = await invite(owner, invitee.email, "VIEWER")
        created = await invitee.gql(
            "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }",
            {"i": {"name": "bound", "workspaceId": invitee.workspace_id}},
        )
        bound = invitee.gql.as_(created.ok()["createApiKey"]["secret"])
        refused = await _answer(bound, ACCEPT, invitation_id)
        assert refused.code in {"NOT_FOUND", "FORBIDDEN"}
        assert (await bound(MINE)).ok()["viewer"]["invitations"] == []


class TestLimits:
    async def test_a_workspace_holds_at_most_the_pending_cap(
        self, owner: Account, db: AsyncSession, clock: ManualClock
    ) -> None:
        workspace = decode_global_id(owner.workspace_id).id
        expires = clock.now() + timedelta(days=7)
        db.add_all(
            Invitation(
                workspace_id=workspace,
                email=f"p{n}@example.com",
                role=Role.VIEWER,
                expires_at=expires,
            )
            for n in range(MAX_PENDING_PER_WORKSPACE - 1)
        )
        await db.commit()
        assert await invite(owner, "last@example.com", "VIEWER")
        refused = await owner.gql(
            INVITE, {"i": {"workspaceId": owner.workspace_id, "email": "over@example.com"}}
        )
        assert refused.code == "CONFLICT"
        assert refused.errors[0]["extensions"]["reason"] == "TOO_MANY_INVITATIONS"
        assert await invite(owner, "last@example.com", "EDITOR")  # renewing is not a new one


class TestRaces:
    async def test_accept_racing_revoke_has_one_winner_and_no_internal_error(
        self, postgres_only_url: str, tmp_path: Path
    ) -> None:
        async with app_client(make_settings(postgres_only_url, tmp_path)) as http:
            owner = await register(http, "Owner")
            joined = 0
            for _ in range(10):
                invitee = await register(http, "Invitee")
                invitation_id = await invite(owner, invitee.email, "VIEWER")
                results = await asyncio.gather(
                    _answer(invitee.gql, ACCEPT, invitation_id),
                    _answer(owner.gql, REVOKE, invitation_id),
                    _answer(invitee.gql, ACCEPT, invitation_id),
                )
                codes = sorted(r.codes[0] if r.errors else "OK" for r in results)
                assert codes == ["CONFLICT", "CONFLICT", "OK"], codes
                joined += bool(results[1].errors)  # the revocation lost: someone joined
            assert (await _pending(owner))["members"]["totalCount"] == 1 + joined


async def _register_as(http: httpx.AsyncClient, email: str) -> GraphQL:
    from tests.graphql import REGISTER, signup

    fields = {"email": email, "password": "correct horse battery", "name": "Late"}
    result = await GraphQL(http)(REGISTER, signup(fields))
    return GraphQL(http, result.ok()["signIn"]["accessToken"])


async def _relogin(account: Account, http: httpx.AsyncClient) -> None:
    result = await GraphQL(http)(
        LOGIN, {"i": {"email": account.email, "password": account.password}}
    )
    account.gql = GraphQL(http, result.ok()["login"]["accessToken"])
