"""The account's users and console tokens (admins manage everyone's; others their own)."""

from __future__ import annotations

from typing import Annotated, Any

from dishka.integrations.litestar import FromDishka, inject
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from smarter.application.access import require_admin
from smarter.application.accounts import (
    ChangeUser,
    CreateUser,
    GetAccount,
    IssueToken,
    ListTokens,
    ListUsers,
    NewUser,
    RevokeToken,
)
from smarter.application.sign_in import InviteUser
from smarter.application.views import secret_view
from smarter.domain.accounts import Principal
from smarter.domain.errors import Conflict, InvalidValue
from smarter.entrypoints.console.pages import go, render

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _invitation_url(request: Request[Any, Any, Any], secret: str) -> str:
    return f"{request.base_url}".rstrip("/") + f"/invitations/{secret}"


async def _users_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    account: GetAccount,
    list_users: ListUsers,
    status_code: int = 200,
    **context: Any,
) -> Template:
    require_admin(principal, "manage users")
    users = await list_users(principal)
    return render(
        request,
        "account_users.html",
        status_code,
        account=await account(principal),
        users=users,
        section="users",
        **{"error": None, "invitation": None, "form": {}, **context},
    )


@get("/account/users", include_in_schema=False)
@inject
async def users_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    account: FromDishka[GetAccount],
    list_users: FromDishka[ListUsers],
) -> Template:
    return await _users_page(request, principal, account, list_users)


@post("/account/users", include_in_schema=False)
@inject
async def create_user(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    data: Form,
    create: FromDishka[CreateUser],
    invite: FromDishka[InviteUser],
    account: FromDishka[GetAccount],
    list_users: FromDishka[ListUsers],
) -> Template:
    form = {k: data.get(k, "").strip()[:254] for k in ("username", "email")}
    try:
        new = NewUser(
            username=form["username"],
            email=form["email"],
            is_account_admin=data.get("is_account_admin") == "on",
        )
        user, _ = await create(principal, new)
    except (InvalidValue, Conflict) as error:
        message = error.reason if isinstance(error, InvalidValue) else error.message
        return await _users_page(
            request, principal, account, list_users, 422, error=message, form=form
        )
    assert user.id is not None
    issued = await invite(principal, user.id)
    link = {"username": user.username, "url": _invitation_url(request, issued.plaintext)}
    return await _users_page(request, principal, account, list_users, 201, invitation=link)


@post("/account/users/{user_id:int}/invite", include_in_schema=False)
@inject
async def invite_user(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    user_id: FromPath[int],
    invite: FromDishka[InviteUser],
    account: FromDishka[GetAccount],
    list_users: FromDishka[ListUsers],
) -> Template:
    issued = await invite(principal, user_id)
    link = {"username": issued.user.username, "url": _invitation_url(request, issued.plaintext)}
    return await _users_page(request, principal, account, list_users, invitation=link)


@post("/account/users/{user_id:int}", include_in_schema=False)
@inject
async def change_user(
    principal: NamedDependency[Principal],
    user_id: FromPath[int],
    data: Form,
    change: FromDishka[ChangeUser],
) -> Response[Any]:
    flags = {"true": True, "false": False}
    await change(
        principal,
        user_id,
        is_account_admin=flags.get(data.get("is_account_admin", "")),
        is_active=flags.get(data.get("is_active", "")),
    )
    return go("/account/users", "user-changed")


async def _tokens_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    list_tokens: ListTokens,
    list_users: ListUsers,
    status_code: int = 200,
    **context: Any,
) -> Template:
    require_admin(principal, "manage the account's tokens")
    tokens = [secret_view(t) for t in await list_tokens(principal)]
    tokens.sort(key=lambda token: (not token.active, -token.id))
    users = {u.id: u.username for u in await list_users(principal)}
    return render(
        request,
        "account_tokens.html",
        status_code,
        tokens=tokens,
        usernames=users,
        section="tokens",
        **{"created": None, **context},
    )


@get("/account/tokens", include_in_schema=False)
@inject
async def tokens_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    list_tokens: FromDishka[ListTokens],
    list_users: FromDishka[ListUsers],
) -> Template:
    return await _tokens_page(request, principal, list_tokens, list_users)


@post("/account/tokens", include_in_schema=False)
@inject
async def create_token(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    data: Form,
    issue: FromDishka[IssueToken],
    list_tokens: FromDishka[ListTokens],
    list_users: FromDishka[ListUsers],
) -> Template:
    name = data.get("name", "").strip()[:128] or "console"
    issued = await issue(principal, name)
    return await _tokens_page(
        request, principal, list_tokens, list_users, 201, created=issued.plaintext
    )


@post("/account/tokens/{token_id:int}/revoke", include_in_schema=False)
@inject
async def revoke_token(
    principal: NamedDependency[Principal], token_id: FromPath[int], revoke: FromDishka[RevokeToken]
) -> Response[Any]:
    await revoke(principal, token_id)
    return go("/account/tokens", "revoked")


ROUTES = [
    users_page,
    create_user,
    invite_user,
    change_user,
    tokens_page,
    create_token,
    revoke_token,
]
