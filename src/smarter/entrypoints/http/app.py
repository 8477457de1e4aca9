"""The Litestar application, built from settings (and a dishka container) by a function."""

from __future__ import annotations

from dishka import AsyncContainer
from dishka.integrations.litestar import setup_dishka
from litestar import Litestar, Router, get
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, Tag

from smarter.entrypoints.http.accounts import (
    AccountController,
    TokensController,
    UsersController,
)
from smarter.entrypoints.http.api_keys import APIKeysController
from smarter.entrypoints.http.auth import (
    PRINCIPAL,
    SECURITY,
    SECURITY_SCHEME,
    SECURITY_SCHEME_NAME,
    authenticate,
)
from smarter.entrypoints.http.custom_domains import CustomDomainsController
from smarter.entrypoints.http.errors import EXCEPTION_HANDLERS
from smarter.entrypoints.http.host_gate import HostGate
from smarter.entrypoints.http.hosts import HostsController
from smarter.entrypoints.http.llm_clients import LLMClientsController
from smarter.entrypoints.http.manifests import ManifestsController
from smarter.entrypoints.http.nul_characters import refuse_nul_characters
from smarter.entrypoints.settings import Settings
from smarter.entrypoints.wiring import make_container

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
    Tag(name="diagnostics", description="Health and host rules; no token needed"),
]


@get("/healthz", summary="Liveness probe (any host)", tags=["diagnostics"])
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


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
            ManifestsController,
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
        render_plugins=[SwaggerRenderPlugin(path="/"), JsonRenderPlugin(path="/openapi.json")],
    )


def create_app(settings: Settings, container: AsyncContainer | None = None) -> Litestar:
    di = make_container(settings) if container is None else container

    async def close_container() -> None:
        await di.close()

    app = Litestar(
        route_handlers=[healthz, HostsController, console_api()],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_BODY_BYTES,
        before_request=refuse_nul_characters,
        openapi_config=openapi_config(),
        on_shutdown=[close_container],
        debug=False,
    )
    setup_dishka(di, app)
    app.asgi_handler = HostGate(app.asgi_handler, di, settings.environment)
    return app
