"""Mutations ``register``, ``login``, ``refreshToken``, ``logout``; API keys."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.auth.credentials import ACCESS_COOKIE, REFRESH_COOKIE
from app.auth.resolve import actor_for_sign_in
from app.errors import UnauthenticatedError
from app.ids import expect_global_id
from app.schema.context import Context, Info
from app.schema.enums import ApiKeyScope
from app.schema.extensions import mutation
from app.schema.types.api_key import ApiKeyType
from app.schema.types.member import UserType
from app.services import accounts, api_keys
from app.services.accounts import SignIn
from app.services.api_keys import NewApiKey

REFRESH_COOKIE_PATH = "/graphql"


@strawberry.input
class RegisterInput:
    email: str
    password: str
    name: str


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.input
class RefreshTokenInput:
    refresh_token: str | None = strawberry.field(
        default=None, description="Omit to use the refresh cookie set at login."
    )


@strawberry.input
class LogoutInput:
    refresh_token: str | None = None


@strawberry.type(description="Tokens for a signed-in user; browsers also get HTTP-only cookies.")
class AuthPayload:
    user: UserType
    access_token: str
    access_token_expires_at: datetime
    refresh_token: str
    refresh_token_expires_at: datetime


@strawberry.type(description="Registration was taken in; sign in with `login`.")
class RegisterPayload:
    accepted: bool


@strawberry.type
class LogoutPayload:
    ok: bool


@strawberry.input
class CreateApiKeyInput:
    name: str
    scope: ApiKeyScope = ApiKeyScope.FULL
    workspace_id: strawberry.ID | None = strawberry.field(
        default=None, description="Bind the key to this one workspace (you must be a member)."
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the key stops working (a time without a zone is UTC)."
    )
    expires_in_days: int | None = strawberry.field(
        default=None, description="Or: how many days from now it stops working."
    )

    def to_request(self) -> NewApiKey:
        workspace_id = self.workspace_id
        return NewApiKey(
            name=self.name,
            scope=self.scope,
            workspace_id=(
                expect_global_id(workspace_id, "Workspace", field="workspaceId")
                if workspace_id
                else None
            ),
            expires_at=self.expires_at,
            expires_in_days=self.expires_in_days,
        )


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKeyType
    secret: str = strawberry.field(description="The whole key. It is shown only this once.")


@strawberry.input
class RevokeApiKeyInput:
    id: strawberry.ID


@strawberry.type
class RevokeApiKeyPayload:
    api_key: ApiKeyType


async def _signed_in(context: Context, result: SignIn) -> AuthPayload | None:
    context.adopt(await actor_for_sign_in(context.session, result.user.id, result.session_id))
    response = context.response
    if response is not None and hasattr(response, "set_cookie"):
        secure = context.settings.secure_cookies
        now = context.now()
        response.set_cookie(
            ACCESS_COOKIE,
            result.access_token,
            httponly=True,
            samesite="lax",
            secure=secure,
            max_age=int((result.access_expires_at - now).total_seconds()),
            path="/",
        )
        response.set_cookie(
            REFRESH_COOKIE,
            result.refresh_token,
            httponly=True,
            samesite="strict",
            secure=secure,
            max_age=int((result.refresh_expires_at - now).total_seconds()),
            path=REFRESH_COOKIE_PATH,
        )
    return AuthPayload(
        user=UserType.from_model(result.user),
        access_token=result.access_token,
        access_token_expires_at=result.access_expires_at,
        refresh_token=result.refresh_token,
        refresh_token_expires_at=result.refresh_expires_at,
    )


def _user_agent(context: Context) -> str | None:
    request = context.request
    return request.headers.get("user-agent") if request is not None else None


@strawberry.type
class AccountMutation:
    @mutation(
        description=(
            "Create an account and its personal workspace, then sign in with `login`. The answer"
            " is the same whether or not the email already had an account."
        )
    )
    async def register(self, info: Info, input: RegisterInput) -> RegisterPayload | None:
        ctx = info.context
        await accounts.register(
            ctx.session,
            ctx.runtime.security,
            email=input.email,
            password=input.password,
            name=input.name,
            now=ctx.now(),
            address=ctx.client_address,
        )
        return RegisterPayload(accepted=True)

    @mutation(description="Sign in with email and password.")
    async def login(self, info: Info, input: LoginInput) -> AuthPayload | None:
        ctx = info.context
        result = await accounts.login(
            ctx.session,
            ctx.runtime.security,
            email=input.email,
            password=input.password,
            now=ctx.now(),
            user_agent=_user_agent(ctx),
            address=ctx.client_address,
        )
        return await _signed_in(ctx, result)

    @mutation(description="Trade a refresh token for new tokens (it rotates).")
    async def refresh_token(
        self, info: Info, input: RefreshTokenInput | None = None
    ) -> AuthPayload | None:
        ctx = info.context
        token = (input.refresh_token if input else None) or _cookie(ctx, REFRESH_COOKIE)
        if not token:
            raise UnauthenticatedError("No refresh token given.", reason="NO_CREDENTIALS")
        result = await accounts.refresh(
            ctx.session,
            ctx.runtime.security,
            refresh_token=token,
            now=ctx.now(),
            address=ctx.client_address,
        )
        return await _signed_in(ctx, result)

    @mutation(description="End the sign-in: its refresh tokens and access tokens stop working.")
    async def logout(self, info: Info, input: LogoutInput | None = None) -> LogoutPayload | None:
        ctx = info.context
        token = (input.refresh_token if input else None) or _cookie(ctx, REFRESH_COOKIE)
        ok = await accounts.logout(
            ctx.session, actor=ctx.maybe_actor, refresh_token=token, now=ctx.now()
        )
        if ctx.response is not None and hasattr(ctx.response, "delete_cookie"):
            ctx.response.delete_cookie(ACCESS_COOKIE, path="/")
            ctx.response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH)
        return LogoutPayload(ok=ok)

    @mutation(description="Create an API key; its secret is returned only here.")
    async def create_api_key(
        self, info: Info, input: CreateApiKeyInput
    ) -> CreateApiKeyPayload | None:
        ctx = info.context
        row, secret = await api_keys.create_api_key(
            ctx.session,
            ctx.actor,
            ctx.runtime.security.limits,
            input.to_request(),
            now=ctx.now(),
            address=ctx.client_address,
        )
        return CreateApiKeyPayload(api_key=ApiKeyType.from_model(row), secret=secret)

    @mutation(description="Revoke one of your API keys.")
    async def revoke_api_key(
        self, info: Info, input: RevokeApiKeyInput
    ) -> RevokeApiKeyPayload | None:
        ctx = info.context
        key_id = expect_global_id(input.id, "ApiKey")
        row = await api_keys.revoke_api_key(
            ctx.session, ctx.actor, api_key_id=key_id, now=ctx.now()
        )
        return RevokeApiKeyPayload(api_key=ApiKeyType.from_model(row))


@strawberry.type
class AccountQuery:
    @strawberry.field(description="Your API keys, newest first.")
    async def api_keys(self, info: Info) -> list[ApiKeyType]:
        rows = await api_keys.list_api_keys(info.context.session, info.context.actor)
        return [ApiKeyType.from_model(row) for row in rows]


def _cookie(context: Context, name: str) -> str | None:
    request = context.request
    return request.cookies.get(name) if request is not None else None
