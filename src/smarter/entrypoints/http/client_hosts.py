"""The routes of client hosts: `<client>.<account>.<api domain>` and verified custom domains.

They live in an application of their own, which the host gate hands client hosts to: console
and API routes are never served on a client host, nor these on a console or API host. Each
chat route calls the `AnswerChat` use case once and turns its answer (or its refusal) into a
response; CORS headers go on every answer to a page from an allowed origin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import msgspec
from dishka import AsyncContainer
from litestar import HttpMethod, Litestar, MediaType, Request, Response, route
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.plugins import PluginProtocol
from litestar.types import ControllerRouterHandler

from smarter.application.chat.answer_chat import ChatCall
from smarter.application.chat.errors import ClientNotReady, OriginRefused
from smarter.application.chat.formats import chat_config
from smarter.domain.errors import DomainError, NotFound
from smarter.entrypoints.http import cors
from smarter.entrypoints.http.chat_page import CLIENT_HOST_PAGE_ROUTES
from smarter.entrypoints.http.chat_replies import (
    MAX_BODY_BYTES,
    accepts_stream,
    failure,
    reply_response,
)
from smarter.entrypoints.http.client_host_services import (
    CONTAINER,
    host_of,
    presented_key,
    served_client,
    services_of,
)
from smarter.entrypoints.http.errors import EXCEPTION_HANDLERS
from smarter.entrypoints.http.logs import logging_config
from smarter.entrypoints.http.nul_characters import refuse_nul_characters
from smarter.entrypoints.http.observed import platform_request_id

_encode = msgspec.json.Encoder().encode
_BEFORE_THE_ORIGIN_IS_KNOWN: Final = (NotFound, ClientNotReady, OriginRefused)
"""Refusals that come before the caller's origin is known to be allowed: no CORS headers."""


def _cors_headers(origin: str | None, error: Exception | None = None) -> dict[str, str]:
    if origin is None or isinstance(error, _BEFORE_THE_ORIGIN_IS_KNOWN):
        return {}
    return cors.allow_origin(origin)


async def _chat(request: Request[Any, Any, Any], *, openai_shape: bool) -> Response[Any]:
    origin = request.headers.get("origin")
    try:
        services = await services_of(request)
        call = ChatCall(
            host=host_of(request),
            origin=origin,
            presented_key=presented_key(request),
            caller=request.client.host if request.client else "unknown",
            read_body=request.body,
            stream_accepted=not openai_shape and accepts_stream(request),
            request_id=platform_request_id(request.scope),
        )
        reply = await services.answer_chat(call)
    except (DomainError, HTTPException) as error:
        return failure(error, _cors_headers(origin, error), openai_shape=openai_shape)
    return reply_response(reply, _cors_headers(origin))


# Each route answers its own CORS preflight (OPTIONS): Litestar would otherwise add its own.
_POST = [HttpMethod.POST, HttpMethod.OPTIONS]


@route("/llm-client/", http_method=_POST, status_code=200, include_in_schema=False)
async def llm_client(request: Request[Any, Any, Any]) -> Response[Any]:
    """The chat endpoint: a ChatCompletion plus `session_key` and `request_id`."""
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
    origin = request.headers.get("origin")
    try:
        served = await served_client(request)
        config = chat_config(
            served.client,
            served.mode,
            url_llm_client=f"{served.own_origin}/llm-client/",
            url_chat_config=f"{served.own_origin}/config/",
        )
    except (DomainError, HTTPException) as error:
        return failure(error, _cors_headers(origin, error))
    return Response(_encode(config), media_type=MediaType.JSON, headers=_cors_headers(origin))


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
    """Every route of client hosts."""
    return [llm_client, chat_completions, ui_config, *CLIENT_HOST_PAGE_ROUTES]


def create_client_host_app(
    container: AsyncContainer,
    log_level: str = "info",
    *,
    structured: bool = False,
    plugins: Sequence[PluginProtocol] = (),
) -> Litestar:
    """The application client hosts are served by (the host gate calls it)."""
    return Litestar(
        route_handlers=client_host_routes(),
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_BODY_BYTES,
        before_request=refuse_nul_characters,
        openapi_config=None,
        state=State({CONTAINER: container}),
        logging_config=logging_config(log_level, structured=structured),
        plugins=list(plugins),
        debug=False,
    )
