"""Accounts: register, login, tokens (access, refresh, cookies), logout and API keys."""

from __future__ import annotations

from datetime import timedelta

import httpx
import jwt
import pytest
from starlette.applications import Starlette

from app.auth.passwords import Passwords
from app.clock import ManualClock
from tests.graphql import Account, GraphQL

VIEWER = "{ viewer { id email name memberships { role workspace { name isPersonal } } } }"
LOGIN = """
mutation($i: LoginInput!) {
  login(input: $i) { accessToken refreshToken accessTokenExpiresAt user { email } }
}
"""
REFRESH = (
    "mutation($t: String) { refreshToken(input: {refreshToken: $t}) { accessToken refreshToken } }"
)
LOGOUT = "mutation($t: String) { logout(input: {refreshToken: $t}) { ok } }"


class TestRegister:
    async def test_creates_a_personal_workspace_owned_by_the_user(self, owner: Account) -> None:
        viewer = (await owner.gql(VIEWER)).ok()["viewer"]
        assert viewer["email"] == owner.email
        assert viewer["memberships"] == [
            {"role": "OWNER", "workspace": {"name": "Owner's workspace", "isPersonal": True}}
        ]

    async def test_an_email_registers_once_whatever_its_case_and_says_nothing_about_it(
        self, gql: GraphQL, owner: Account
    ) -> None:
        register = "mutation($i: RegisterInput!) { register(input: $i) { accepted } }"
        taken = await gql(
            register,
            {"i": {"email": owner.email.upper(), "password": "another password", "name": "X"}},
        )
        fresh = await gql(
            register,
            {"i": {"email": "new@example.com", "password": "another password", "name": "X"}},
        )
        assert taken.response.json() == fresh.response.json()  # not a byte tells them apart
        assert taken.data == {"register": {"accepted": True}}
        stolen = await gql(LOGIN, {"i": {"email": owner.email, "password": "another password"}})
        assert stolen.code == "UNAUTHENTICATED"  # the existing account is untouched
        assert (await gql(LOGIN, {"i": {"email": owner.email, "password": owner.password}})).ok()

    async def test_bad_fields_are_reported_together(self, gql: GraphQL) -> None:
        result = await gql(
            "mutation($i: RegisterInput!) { register(input: $i) { accepted } }",
            {"i": {"email": "not-an-email", "password": "short", "name": " "}},
        )
        assert result.code == "BAD_USER_INPUT"
        assert set(result.errors[0]["extensions"]["fields"]) == {"email", "password", "name"}


class TestLogin:
    async def test_right_password_signs_in(self, gql: GraphQL, owner: Account) -> None:
        result = await gql(LOGIN, {"i": {"email": owner.email, "password": owner.password}})
        token = result.ok()["login"]["accessToken"]
        assert (await gql.as_(token)(VIEWER)).ok()["viewer"]["email"] == owner.email

    @pytest.mark.parametrize("which", ["wrong password", "unknown email"])
    async def test_failures_look_the_same(self, gql: GraphQL, owner: Account, which: str) -> None:
        email = owner.email if which == "wrong password" else "nobody@example.com"
        result = await gql(LOGIN, {"i": {"email": email, "password": "wrong password!"}})
        assert result.code == "UNAUTHENTICATED"
        assert result.errors[0]["message"] == "Wrong email or password."

    async def test_unknown_email_costs_a_password_check_too(
        self, app: Starlette, gql: GraphQL, owner: Account, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        checks: list[str] = []
        original = Passwords._verify

        def counting(self: Passwords, password_hash: str, password: str) -> bool:
            checks.append(password)
            return original(self, password_hash, password)

        monkeypatch.setattr(Passwords, "_verify", counting)
        await gql(LOGIN, {"i": {"email": "nobody@example.com", "password": "guess one"}})
        await gql(LOGIN, {"i": {"email": owner.email, "password": "guess two"}})
        assert len(checks) == 2


class TestAccessTokens:
    async def test_no_credentials_reads_as_no_viewer(self, gql: GraphQL) -> None:
        assert (await gql(VIEWER)).ok() == {"viewer": None}

    async def test_protected_fields_need_credentials(self, gql: GraphQL) -> None:
        result = await gql("{ apiKeys { id } }")
        assert result.code == "UNAUTHENTICATED"

    async def test_forged_token_is_unauthenticated(self, gql: GraphQL, owner: Account) -> None:
        claims = jwt.decode(owner.gql.token or "", options={"verify_signature": False})
        forged = jwt.encode(claims, "not-the-server-key-" * 3, algorithm="HS256")
        result = await gql.as_(forged)(VIEWER)
        assert result.code == "UNAUTHENTICATED"
        assert result.errors[0]["extensions"]["reason"] == "TOKEN_INVALID"

    @pytest.mark.parametrize("token", ["garbage", "a.b.c", ""])
    async def test_malformed_tokens_are_unauthenticated(self, gql: GraphQL, token: str) -> None:
        result = await gql(VIEWER, Authorization=f"Bearer {token}x")
        assert result.code == "UNAUTHENTICATED"

    async def test_expired_token_is_unauthenticated(
        self, owner: Account, clock: ManualClock
    ) -> None:
        clock.advance(timedelta(minutes=16))
        result = await owner.gql(VIEWER)
        assert result.code == "UNAUTHENTICATED"
        assert result.errors[0]["extensions"]["reason"] == "TOKEN_EXPIRED"

    async def test_authentication_is_never_bypassed_on_localhost(
        self, http: httpx.AsyncClient
    ) -> None:
        response = await http.post(
            "http://127.0.0.1/graphql",
            json={"query": "{ apiKeys { id } }"},
            headers={"Host": "localhost"},
        )
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


class TestRefreshAndLogout:
    async def test_refresh_rotates_the_token(self, gql: GraphQL, owner: Account) -> None:
        first = (await gql(REFRESH, {"t": owner.refresh_token})).ok()["refreshToken"]
        assert first["refreshToken"] != owner.refresh_token
        assert (await gql.as_(first["accessToken"])(VIEWER)).ok()["viewer"]

    async def test_reusing_a_rotated_token_revokes_the_whole_sign_in(
        self, gql: GraphQL, owner: Account
    ) -> None:
        rotated = (await gql(REFRESH, {"t": owner.refresh_token})).ok()["refreshToken"]
        replay = await gql(REFRESH, {"t": owner.refresh_token})
        assert replay.code == "UNAUTHENTICATED"
        assert (await gql(REFRESH, {"t": rotated["refreshToken"]})).code == "UNAUTHENTICATED"
        assert (await gql.as_(rotated["accessToken"])(VIEWER)).code == "UNAUTHENTICATED"

    async def test_expired_refresh_token_is_refused(
        self, gql: GraphQL, owner: Account, clock: ManualClock
    ) -> None:
        clock.advance(timedelta(days=31))
        assert (await gql(REFRESH, {"t": owner.refresh_token})).code == "UNAUTHENTICATED"

    async def test_logout_revokes_refresh_and_access_tokens(
        self, gql: GraphQL, owner: Account
    ) -> None:
        assert (await owner.gql(LOGOUT, {"t": owner.refresh_token})).ok()["logout"]["ok"]
        revoked = await owner.gql(VIEWER)
        assert revoked.code == "UNAUTHENTICATED"
        assert revoked.errors[0]["extensions"]["reason"] == "TOKEN_REVOKED"
        assert (await gql(REFRESH, {"t": owner.refresh_token})).code == "UNAUTHENTICATED"

    async def test_logout_with_only_an_access_token_ends_that_sign_in(self, owner: Account) -> None:
        assert (await owner.gql(LOGOUT)).ok()["logout"]["ok"]
        assert (await owner.gql(VIEWER)).code == "UNAUTHENTICATED"


class TestCookies:
    async def test_login_sets_http_only_cookies_that_authenticate(
        self, http: httpx.AsyncClient, owner: Account
    ) -> None:
        response = await http.post(
            "/graphql",
            json={
                "query": LOGIN,
                "variables": {"i": {"email": owner.email, "password": owner.password}},
            },
        )
        cookies = response.headers.get_list("set-cookie")
        assert any(c.startswith("adstudio_access=") and "HttpOnly" in c for c in cookies)
        assert any(c.startswith("adstudio_refresh=") and "HttpOnly" in c for c in cookies)
        viewer = await http.post("/graphql", json={"query": VIEWER})
        assert viewer.json()["data"]["viewer"]["email"] == owner.email
        refreshed = await http.post(
            "/graphql", json={"query": "mutation { refreshToken { accessToken } }"}
        )
        assert refreshed.json()["data"]["refreshToken"]["accessToken"]

    async def test_cookie_requests_must_be_json_not_a_form(
        self, http: httpx.AsyncClient, owner: Account
    ) -> None:
        await http.post(
            "/graphql",
            json={
                "query": LOGIN,
                "variables": {"i": {"email": owner.email, "password": owner.password}},
            },
        )
        response = await http.post(
            "/graphql",
            content="query={ viewer { id } }",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code in {400, 415}

    async def test_mutations_are_refused_over_get(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/graphql", params={"query": "mutation { logout { ok } }"})
        assert response.status_code in {400, 405}
        assert "data" not in response.text


CREATE_KEY = """
mutation($i: CreateApiKeyInput!) {
  createApiKey(input: $i) { secret apiKey { id name prefix expiresAt revokedAt } }
}
"""


class TestApiKeys:
    async def _key(self, owner: Account, days: int | None = None) -> tuple[str, dict[str, str]]:
        payload = (await owner.gql(CREATE_KEY, {"i": {"name": "CI", "expiresInDays": days}})).ok()
        return payload["createApiKey"]["secret"], payload["createApiKey"]["apiKey"]

    async def test_secret_is_shown_once_and_listed_by_prefix(self, owner: Account) -> None:
        secret, key = await self._key(owner)
        assert secret.startswith(key["prefix"] + "_")
        listed = (await owner.gql("{ apiKeys { id prefix name lastUsedAt } }")).ok()["apiKeys"]
        assert listed == [
            {"id": key["id"], "prefix": key["prefix"], "name": "CI", "lastUsedAt": None}
        ]
        assert secret not in str(listed)

    @pytest.mark.parametrize("header", ["X-API-Key", "Authorization"])
    async def test_key_authenticates_by_header_or_bearer(
        self, gql: GraphQL, owner: Account, header: str
    ) -> None:
        secret, _ = await self._key(owner)
        value = secret if header == "X-API-Key" else f"Bearer {secret}"
        result = await gql(VIEWER, **{header: value})
        assert result.ok()["viewer"]["email"] == owner.email
        used = (await owner.gql("{ apiKeys { lastUsedAt } }")).ok()["apiKeys"][0]
        assert used["lastUsedAt"] is not None

    async def test_revoked_key_is_unauthenticated(self, gql: GraphQL, owner: Account) -> None:
        secret, key = await self._key(owner)
        revoke = (
            "mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) { apiKey { revokedAt } } }"
        )
        assert (await owner.gql(revoke, {"i": {"id": key["id"]}})).ok()
        result = await gql(VIEWER, X_API_Key=secret)
        assert result.code == "UNAUTHENTICATED"
        assert result.errors[0]["extensions"]["reason"] == "API_KEY_REVOKED"

    async def test_expired_key_is_unauthenticated(
        self, gql: GraphQL, owner: Account, clock: ManualClock
    ) -> None:
        secret, _ = await self._key(owner, days=1)
        clock.advance(timedelta(days=2))
        assert (await gql(VIEWER, X_API_Key=secret)).code == "UNAUTHENTICATED"

    async def test_tampered_key_is_unauthenticated(self, gql: GraphQL, owner: Account) -> None:
        secret, _ = await self._key(owner)
        assert (await gql(VIEWER, X_API_Key=secret[:-2] + "xx")).code == "UNAUTHENTICATED"

    async def test_another_users_key_cannot_be_revoked(
        self, owner: Account, stranger: Account
    ) -> None:
        _, key = await self._key(owner)
        revoke = "mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) { apiKey { id } } }"
        assert (await stranger.gql(revoke, {"i": {"id": key["id"]}})).code == "NOT_FOUND"

    async def test_expiry_is_validated(self, owner: Account) -> None:
        result = await owner.gql(CREATE_KEY, {"i": {"name": "x", "expiresInDays": 0}})
        assert result.code == "BAD_USER_INPUT"
        assert "expiresInDays" in result.errors[0]["extensions"]["fields"]
