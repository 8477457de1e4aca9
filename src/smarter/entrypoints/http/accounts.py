"""`/api/v1/account`, `/api/v1/users/` and `/api/v1/tokens/`."""

from __future__ import annotations

from datetime import datetime

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from smarter.application.accounts import (
    CreateUser,
    GetAccount,
    IssueToken,
    ListTokens,
    ListUsers,
    NewUser,
    RevokeToken,
)
from smarter.application.views import SecretView, UserView, secret_view, user_view
from smarter.domain.accounts import Principal
from smarter.entrypoints.http.errors import error_responses
from smarter.entrypoints.http.params import BodyId, ObjectId, SecretName


class CallerView(msgspec.Struct, kw_only=True):
    user_id: int
    username: str
    is_account_admin: bool


class AccountView(msgspec.Struct, kw_only=True):
    account_number: str
    name: str
    created_at: datetime | None
    caller: CallerView


class CreatedUserView(UserView, kw_only=True):
    """A new user with the plaintext of their first token, shown this once."""

    token: str
    token_id: int


class NewToken(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: SecretName
    user_id: BodyId | None = None


class IssuedTokenView(SecretView, kw_only=True):
    """A new token: `token` is its plaintext, shown this once and never again."""

    token: str


class AccountController(Controller):
    path = "/api/v1/account"
    tags = ["account"]

    @get("/", summary="The caller's account", responses=error_responses(401))
    @inject
    async def get_account(
        self, principal: NamedDependency[Principal], get_account: FromDishka[GetAccount]
    ) -> AccountView:
        account = await get_account(principal)
        return AccountView(
            account_number=str(account.account_number),
            name=account.name,
            created_at=account.created_at,
            caller=CallerView(
                user_id=principal.user_id,
                username=principal.username,
                is_account_admin=principal.is_account_admin,
            ),
        )


class UsersController(Controller):
    path = "/api/v1/users"
    tags = ["users"]

    @get("/", summary="List the account's users", responses=error_responses(401))
    @inject
    async def list_users(
        self, principal: NamedDependency[Principal], list_users: FromDishka[ListUsers]
    ) -> list[UserView]:
        return [user_view(user) for user in await list_users(principal)]

    @post(
        "/",
        summary="Add a user (admins only); returns their first token once",
        responses=error_responses(400, 401, 403, 409, 413, 422),
    )
    @inject
    async def create_user(
        self,
        principal: NamedDependency[Principal],
        data: JSONBody[NewUser],
        create_user: FromDishka[CreateUser],
    ) -> CreatedUserView:
        user, issued = await create_user(principal, data)
        assert issued.token.id is not None
        return CreatedUserView(
            **msgspec.structs.asdict(user_view(user)),
            token=issued.plaintext,
            token_id=issued.token.id,
        )


class TokensController(Controller):
    path = "/api/v1/tokens"
    tags = ["tokens"]

    @get(
        "/",
        summary="List tokens (admins: the account's; others: their own), prefixes only",
        responses=error_responses(401),
    )
    @inject
    async def list_tokens(
        self, principal: NamedDependency[Principal], list_tokens: FromDishka[ListTokens]
    ) -> list[SecretView]:
        return [secret_view(token) for token in await list_tokens(principal)]

    @post(
        "/",
        summary="Issue a token (for another user: admins only); returns the plaintext once",
        responses=error_responses(400, 401, 403, 404, 413),
    )
    @inject
    async def issue_token(
        self,
        principal: NamedDependency[Principal],
        data: JSONBody[NewToken],
        issue_token: FromDishka[IssueToken],
    ) -> IssuedTokenView:
        issued = await issue_token(principal, data.name, data.user_id)
        return IssuedTokenView(
            **msgspec.structs.asdict(secret_view(issued.token)), token=issued.plaintext
        )

    @delete(
        "/{token_id:str}/",
        status_code=200,
        summary="Revoke a token",
        responses=error_responses(400, 401, 403, 404),
    )
    @inject
    async def revoke_token(
        self,
        principal: NamedDependency[Principal],
        token_id: ObjectId,
        revoke_token: FromDishka[RevokeToken],
    ) -> SecretView:
        return secret_view(await revoke_token(principal, token_id))
