"""The routes of client hosts: `<client>.<account>.<api domain>` and verified custom domains.

They live in an application of their own, which the host gate hands client hosts to: console
and API routes are never served on a client host, nor these on a console or API host. The hot
path resolves nothing per request from the container: the services are taken from it once, at
APP scope, and a warm request touches no database (the client comes from the cache).

Per request: host → client (404 unknown, 503 not deployed or not ready) → CORS origin (403
for a page from an origin the client does not allow) → API key (401) → rate limit (429) →
body (400) → answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import msgspec
from dishka import AsyncContainer
from litestar import HttpMethod, Litestar, MediaType, Request, Response, route
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.types import ControllerRouterHandler

from smarter.application.chat import (
    Admission,
    Chat,
    FindClientForHost,
    authorize,
    chat_config,
    serving_client,
)
from smarter.application.chat_ports import ClientEntry
from smarter.domain.errors import DomainError
from smarter.domain.host_router import ResolvedHost
from smarter.domain.llm_client import ClientMode, LLMClient
from smarter.entrypoints.http import cors
from smarter.entrypoints.http.auth import token_of
from smarter.entrypoints.http.chat_replies import (
    MAX_BODY_BYTES,
    OriginRefused,
    answer,
    decode_chat_request,
    failure,
    wants_stream,
)
from smarter.entrypoints.http.errors import EXCEPTION_HANDLERS
from smarter.entrypoints.http.host_gate import resolved_host_of
from smarter.entrypoints.http.logs import logging_config
from smarter.entrypoints.http.nul_characters import refuse_nul_characters

CONTAINER: Final = "container"
_SERVICES: Final = "client_host_services"
_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class ClientHostServices:
    """The APP-scope objects every client-host request uses, taken from the container once."""

    find_client: FindClientForHost
    chat: Chat
    admission: Admission
    scheme: str


async def services_of(request: Request[Any, Any, Any]) -> ClientHostServices:
    state = request.app.state
    services: ClientHostServices | None = state.get(_SERVICES)
    if services is None:
        container: AsyncContainer = state[CONTAINER]
        find_client = await container.get(FindClientForHost)
        chat = await container.get(Chat)
        admission = await container.get(Admission)
        scheme = state["scheme"]
        services = ClientHostServices(find_client, chat, admission, scheme)
        state[_SERVICES] = services
    return services


@dataclass(frozen=True, slots=True)
class Served:
    """The client behind this request's host, and what the answer needs to say about it."""

    client: LLMClient
    mode: ClientMode
    entry: ClientEntry
    host: ResolvedHost
    own_origin: str
    cors_headers: dict[str, str]


async def served_client(request: Request[Any, Any, Any]) -> Served:
    """The deployed, ready client of this host, with the CORS headers for this caller.

    Raises NotFound (404), ClientNotReady (503) or OriginRefused (403). For the chat page's
    route too (GET /), which answers the same way.
    """
    services = await services_of(request)
    host = resolved_host_of(request)
    if host is None:  # not behind the gate (a test mounting the app bare): nothing to serve
        raise HTTPException(status_code=404, detail="no LLMClient is served here")
    entry = await services.find_client(host)
    client, mode = serving_client(entry, host)
    own_origin = f"{services.scheme}://{host.host}"
    origin = request.headers.get("origin")
    headers: dict[str, str] = {}
    if origin is not None:
        if not cors.is_allowed(origin, client, own_origin):
            raise OriginRefused(f"pages from {origin} may not call this LLMClient")
        headers = cors.allow_origin(origin)
    return Served(client, mode, entry, host, own_origin, headers)


def presented_key(request: Request[Any, Any, Any]) -> str | None:
    """The API key in `x-api-key`, else in `Authorization: Bearer <key>`."""
    headers = request.headers
    return headers.get("x-api-key") or token_of(headers.get("authorization"))


async def _chat(request: Request[Any, Any, Any], *, openai_shape: bool) -> Response[Any]:
    headers: dict[str, str] = {}
    try:
        served = await served_client(request)
        headers = served.cors_headers
        services = await services_of(request)
        key_id = authorize(served.entry, presented_key(request))
        caller = request.client.host if request.client else "unknown"
        await services.admission(served.client, key_id, caller)
        chat_request = decode_chat_request(await request.body())
        stream = chat_request.stream if openai_shape else wants_stream(request, chat_request)
        return await answer(
            services.chat,
            served.client,
            chat_request,
            mode=served.mode,
            stream=stream,
            api_key_id=key_id,
            headers=headers,
        )
    except (DomainError, HTTPException) as error:
        return failure(error, headers, openai_shape=openai_shape)


# Each route answers its own CORS preflight (OPTIONS): Litestar would otherwise add its own.
_POST = [HttpMethod.POST, HttpMethod.OPTIONS]


@route("/llm-client/", http_method=_POST, status_code=200, include_in_schema=False)
async def llm_client(request: Request[Any, Any, Any]) -> Response[Any]:
    """Seed 002's chat endpoint: a ChatCompletion plus `session_key` and `request_id`."""
    if request.method == HttpMethod.OPTIONS:
        return await preflight(request)
    return await _chat(request, openai_shape=False)


@route("/v1/chat/completions", http_method=_POST, status_code=200, include_in_schema=False)
async def chat_completions(request: Request[Any, Any, Any]) -> Response[Any]:
    """The OpenAI shape, so that any OpenAI SDK works with `base_url=<client host>/v1`."""
    if request.method == HttpMethod.OPTIONS:
        return await preflight(request)
    return await _chat(request, openai_shape=True)


@route("/config/", http_method=[HttpMethod.GET, HttpMethod.OPTIONS], include_in_schema=False)
async def ui_config(request: Request[Any, Any, Any]) -> Response[Any]:
    """The chat page's configuration; public, so that the page can ask for a key if needed."""
    if request.method == HttpMethod.OPTIONS:
        return await preflight(request)
    headers: dict[str, str] = {}
    try:
        served = await served_client(request)
        headers = served.cors_headers
        config = chat_config(
            served.client,
            served.mode,
            url_llm_client=f"{served.own_origin}/llm-client/",
            url_chat_config=f"{served.own_origin}/config/",
        )
    except (DomainError, HTTPException) as error:
        return failure(error, headers)
    return Response(_encode(config), media_type=MediaType.JSON, headers=headers)


async def preflight(request: Request[Any, Any, Any]) -> Response[Any]:
    """CORS preflight: 204 with the allowed methods and headers, or 403 for another origin."""
    origin = request.headers.get("origin")
    try:
        await served_client(request)
    except (DomainError, HTTPException) as error:
        return failure(error)
    headers = cors.allow_preflight(origin) if origin is not None else {}
    return Response(None, status_code=204, headers={"Allow": cors.ALLOW_METHODS, **headers})


def client_host_routes() -> list[ControllerRouterHandler]:
    """Every route of client hosts. The chat page (`GET /`) is added here by its module."""
    # Imported here: chat_page uses this module's `served_client`.
    from smarter.entrypoints.http.chat_page import CLIENT_HOST_PAGE_ROUTES

    return [llm_client, chat_completions, ui_config, *CLIENT_HOST_PAGE_ROUTES]


def create_client_host_app(
    container: AsyncContainer, scheme: str, log_level: str = "info"
) -> Litestar:
    """The application client hosts are served by (the host gate calls it)."""
    return Litestar(
        route_handlers=client_host_routes(),
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_BODY_BYTES,
        before_request=refuse_nul_characters,
        openapi_config=None,
        state=State({CONTAINER: container, "scheme": scheme}),
        logging_config=logging_config(log_level),
        debug=False,
    )
