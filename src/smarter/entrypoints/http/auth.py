"""Console authentication: `Authorization: Token <token>` (or `Bearer <token>`).

A guard authenticates before Litestar reads the body or the parameters, so a caller without a
valid token learns nothing about the input rules (401 first); the principal it finds is then
a handler dependency named `principal`.
"""

from __future__ import annotations

from typing import Any

from dishka import AsyncContainer
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.handlers import BaseRouteHandler
from litestar.openapi.spec import SecurityRequirement, SecurityScheme

from smarter.application.accounts import Authenticate
from smarter.application.request_context import ACCOUNT
from smarter.domain.accounts import Principal

SCHEMES = ("token", "bearer")
SECURITY_SCHEME_NAME = "token"
SECURITY_SCHEME = SecurityScheme(
    type="apiKey",
    name="Authorization",
    security_scheme_in="header",
    description="`Token <token>` or `Bearer <token>`",
)
SECURITY: list[SecurityRequirement] = [{SECURITY_SCHEME_NAME: []}]


def token_of(authorization: str | None) -> str | None:
    """The token in an Authorization header value, or None when there is none."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() not in SCHEMES:
        return None
    return token.strip() or None


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: find the principal behind the token, or raise Unauthenticated (401)."""
    container: AsyncContainer = connection.state.dishka_container
    use_case = await container.get(Authenticate)
    token = token_of(connection.headers.get("authorization"))
    principal = connection.state.principal = await use_case(token)
    ACCOUNT.set(str(principal.account_number))  # for the request's log lines


def current_principal(request: Request[Any, Any, Any]) -> Principal:
    principal: Principal = request.state.principal
    return principal


PRINCIPAL = {"principal": Provide(current_principal, sync_to_thread=False)}
