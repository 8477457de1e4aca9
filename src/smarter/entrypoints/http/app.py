"""The Litestar application, built from settings (and a dishka container) by a function."""

from __future__ import annotations

import gc

from dishka import AsyncContainer
from dishka.integrations.litestar import setup_dishka
from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, Tag
from litestar.plugins.htmx import HTMXPlugin

from smarter.application.chat.answer_chat import AnswerChat
from smarter.application.chat.hosts import ServeHost
from smarter.application.chat_ports import ChatRecorder
from smarter.domain.environments import Environment
from smarter.entrypoints.console.router import (
    console_router,
    csrf_config,
    docs_plugin,
    static_router,
    template_config,
)
from smarter.entrypoints.http.accounts import (
    AccountController,
    TokensController,
    UsersController,
)
from smarter.entrypoints.http.allow_header import allow_every_method
from smarter.entrypoints.http.api_keys import APIKeysController
from smarter.entrypoints.http.auth import (
    PRINCIPAL,
    SECURITY,
    SECURITY_SCHEME,
    SECURITY_SCHEME_NAME,
    authenticate,
)
from smarter.entrypoints.http.chat_page import CONSOLE_PAGE_ROUTES
from smarter.entrypoints.http.client_hosts import create_client_host_app
from smarter.entrypoints.http.custom_domains import CustomDomainsController
from smarter.entrypoints.http.custom_hostnames import CustomHostnamesController
from smarter.entrypoints.http.errors import EXCEPTION_HANDLERS
from smarter.entrypoints.http.health import healthz, metrics, readyz
from smarter.entrypoints.http.history import HistoryController
from smarter.entrypoints.http.host_gate import HostGate
from smarter.entrypoints.http.hosts import HostsController
from smarter.entrypoints.http.llm_clients import LLMClientsController
from smarter.entrypoints.http.logs import logging_config
from smarter.entrypoints.http.manifests import ManifestsController
from smarter.entrypoints.http.nul_characters import refuse_nul_characters
from smarter.entrypoints.http.observed import Observed
from smarter.entrypoints.http.openapi_schema import StrictStructSchemaPlugin
from smarter.entrypoints.http.sandbox import SandboxController
from smarter.entrypoints.http.webhooks import WebhooksController
from smarter.entrypoints.settings import Settings
from smarter.entrypoints.telemetry import tracer_provider_from, tracing_plugin
from smarter.entrypoints.wiring import make_container
from smarter.entrypoints.worker import EmbeddedProvisioning

MAX_BODY_BYTES = 1_048_576
DOCS_PATH = "/api/docs"

TAGS = [
    Tag(name="account", description="The caller's account"),
    Tag(name="users", description="Users of the account (admins add them)"),
    Tag(name="tokens", description="Console API tokens; the plaintext is shown once"),
    Tag(name="llm-clients", description="LLMClients, their deployment and status"),
    Tag(name="api-keys", description="Keys a client may require; the plaintext is shown once"),
    Tag(name="custom-domains", description="Customers' own domains for client hosts"),
    Tag(name="manifests", description="LLMClients as `smarter.sh/v1` manifests"),
    Tag(name="history", description="A client's request history and conversations"),
    Tag(name="webhooks", description="Signed event notifications to the account's endpoints"),
    Tag(name="diagnostics", description="Health and host rules; no token needed"),
]


def console_api() -> Router:
    """Everything under /api/v1 that needs a token."""
    return Router(
        path="/",
        route_handlers=[
            AccountController,
            UsersController,
            TokensController,
            LLMClientsController,
            APIKeysController,
            CustomDomainsController,
            CustomHostnamesController,
            ManifestsController,
            HistoryController,
            SandboxController,
            WebhooksController,
        ],
        guards=[authenticate],
        dependencies=PRINCIPAL,
        security=SECURITY,
    )


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Smarter console API",
        version="0.1.0",
        description=(
            "Manage LLMClients, their API keys, custom domains and manifests. Authenticate with"
            " `Authorization: Token <token>` (or `Bearer <token>`). Errors are JSON"
            ' `{"status_code", "detail", "field"}`.'
        ),
        path=DOCS_PATH,
        tags=TAGS,
        components=Components(security_schemes={SECURITY_SCHEME_NAME: SECURITY_SCHEME}),
        render_plugins=[docs_plugin(), JsonRenderPlugin(path="/openapi.json")],
    )


def create_app(
    settings: Settings,
    container: AsyncContainer | None = None,
    *,
    embedded_worker: bool = False,
    freeze_heap: bool = False,
) -> Litestar:
    """`embedded_worker`: also run provisioning jobs in this process (`serve` without Redis).
    `freeze_heap`: `gc.freeze()` once started (a server process; not for tests' many apps)."""
    di = make_container(settings) if container is None else container
    structured = settings.environment is not Environment.LOCAL  # JSON log lines
    tracing = tracer_provider_from()  # None unless OTEL_* variables ask for traces
    embedded = EmbeddedProvisioning(di, settings)

    async def start_worker() -> None:
        if embedded_worker:
            await embedded.start()

    async def start_chat() -> None:
        # Resolve the chat path's services now, not on the first chat request.
        await di.get(AnswerChat)
        await di.get(ServeHost)
        if freeze_heap:
            # What startup built (modules, mappers, the container) lives as long as the
            # process: out of the collector's sight, a full collection on the hot path walks
            # only what requests allocate (it walked it all: pauses of ~100 ms at p99).
            gc.collect()
            gc.freeze()

    async def close_container() -> None:
        await embedded.stop()
        await (await di.get(ChatRecorder)).drain()  # every chat turn accepted is stored
        await di.close()
        if tracing is not None:
            tracing.shutdown()  # exports the spans still buffered

    app = Litestar(
        route_handlers=[
            healthz,
            readyz,
            metrics,
            HostsController,
            console_api(),
            *CONSOLE_PAGE_ROUTES,
            console_router(),
            static_router(),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_BODY_BYTES,
        before_request=refuse_nul_characters,
        openapi_config=openapi_config(),
        # The schema's structs refuse unknown fields; htmx requests for the console; traces
        # when OTEL_* asks for them.
        plugins=[StrictStructSchemaPlugin(), HTMXPlugin(), *tracing_plugin(tracing)],
        template_config=template_config(),
        csrf_config=csrf_config(settings),
        state=State({"settings": settings}),
        on_startup=[start_worker, start_chat],
        on_shutdown=[close_container],
        logging_config=logging_config(settings.log_level, structured=structured),
        debug=False,
    )
    allow_every_method(app)  # Litestar 2 lists only some methods in OPTIONS
    setup_dishka(di, app)
    client_hosts = create_client_host_app(
        di, settings.log_level, structured=structured, plugins=tracing_plugin(tracing)
    )
    gate = HostGate(app.asgi_handler, di, settings.environment, client_hosts)
    app.asgi_handler = Observed(gate)
    return app
