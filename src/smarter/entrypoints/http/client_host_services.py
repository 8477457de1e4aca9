"""What every route of a client host starts from: the APP-scope use cases (taken from the
container once, so that a warm request resolves nothing), the host the gate resolved, the
caller's key and page origin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from dishka import AsyncContainer
from litestar import Request

from smarter.application.chat.answer_chat import AnswerChat
from smarter.application.chat.hosts import Served, ServeHost
from smarter.domain.errors import NotFound
from smarter.domain.host_router import ResolvedHost
from smarter.entrypoints.http.auth import token_of
from smarter.entrypoints.http.host_gate import resolved_host_of

CONTAINER: Final = "container"
_SERVICES: Final = "client_host_services"


@dataclass(frozen=True, slots=True)
class ClientHostServices:
    serve_host: ServeHost
    answer_chat: AnswerChat


async def services_of(request: Request[Any, Any, Any]) -> ClientHostServices:
    state = request.app.state
    services: ClientHostServices | None = state.get(_SERVICES)
    if services is None:
        container: AsyncContainer = state[CONTAINER]
        services = ClientHostServices(
            await container.get(ServeHost), await container.get(AnswerChat)
        )
        state[_SERVICES] = services
    return services


def host_of(request: Request[Any, Any, Any]) -> ResolvedHost:
    host = resolved_host_of(request)
    if host is None:  # not behind the gate (a test mounting the app bare): nothing to serve
        raise NotFound("no LLMClient is served here")
    return host


def presented_key(request: Request[Any, Any, Any]) -> str | None:
    """The API key in `x-api-key`, else in `Authorization: Bearer <key>`."""
    headers = request.headers
    return headers.get("x-api-key") or token_of(headers.get("authorization"))


async def served_client(request: Request[Any, Any, Any]) -> Served:
    """The deployed, ready client of this host, for this caller's page (if any).

    Raises NotFound (404), ClientNotReady (503) or OriginRefused (403).
    """
    services = await services_of(request)
    return await services.serve_host(host_of(request), request.headers.get("origin"))
