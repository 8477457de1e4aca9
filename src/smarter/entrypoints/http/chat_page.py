"""The chat page: `GET /` on a client host, `/workbench/llm-clients/{hashed_id}/` on the console.

One HTML shell (static/chat.html) serves both; the server only fills in where the page finds
its configuration and where it sends turns, and the JavaScript does the rest. On a client
host that is `/config/` and `/llm-client/` of the same host; in the workbench it is the
sandbox twins under `/api/v1/llm-clients/{id}/`, which need the console token the person
pastes into the page (a browser navigation carries none, so the shell holds no client data).

The page is served under the same rules as the chat endpoint of its host: no client there is
404, a client that is not deployed or not ready is 503. Its assets come from
`/chat-assets/{name}` on every host that serves the page, versioned by content so that they
can be cached. A Content-Security-Policy allows scripts, styles and requests to this origin
only (images may come from the customer's own https URLs: the logo and the background).
"""

from __future__ import annotations

import hashlib
import html
from functools import cache
from importlib import resources
from typing import Annotated, Any, Final

from litestar import Request, Response, get
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.params import PathParameter

from smarter.domain.errors import DomainError, NotFound
from smarter.domain.hashed_id import decode_hashed_id
from smarter.domain.host_router import HostKind
from smarter.entrypoints.http.chat_replies import failure
from smarter.entrypoints.http.client_host_services import served_client
from smarter.entrypoints.http.host_gate import resolved_host_of

ASSETS_PATH: Final = "/chat-assets"
CLIENT_CONFIG_PATH: Final = "/config/"
CLIENT_CHAT_PATH: Final = "/llm-client/"

CONTENT_SECURITY_POLICY: Final = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' https: data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
ASSET_TYPES: Final = {
    "chat.css": "text/css",
    "chat.js": "text/javascript",
}


@cache
def _static(name: str) -> str:
    return (resources.files("smarter.entrypoints.http") / "static" / name).read_text("utf-8")


@cache
def assets_version() -> str:
    """Changes whenever an asset does, so the page's asset URLs can be cached for long."""
    digest = hashlib.sha256()
    for name in sorted(ASSET_TYPES):
        digest.update(_static(name).encode("utf-8"))
    return digest.hexdigest()[:12]


def render_page(
    mode: str,
    config_url: str,
    chat_url: str,
    csrf_token: str = "",
    headers: dict[str, str] | None = None,
) -> Response[str]:
    """The shell with its blanks filled in, HTML-escaped."""
    values = {
        "mode": mode,
        "config_url": config_url,
        "chat_url": chat_url,
        "csrf_token": csrf_token,
        "assets": ASSETS_PATH,
        "version": assets_version(),
    }
    page = _static("chat.html")
    for name, value in values.items():
        page = page.replace("{" + name + "}", html.escape(value, quote=True))
    return Response(page, media_type="text/html", headers=headers or PAGE_HEADERS)


@get("/", include_in_schema=False)
async def client_chat_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """The page of the client behind this host; 404 or 503 like its chat endpoint."""
    try:
        await served_client(request)
    except (DomainError, HTTPException) as error:
        return failure(error)
    return render_page("client", CLIENT_CONFIG_PATH, CLIENT_CHAT_PATH)


@get("/workbench/llm-clients/{hashed_id:str}/", include_in_schema=False)
async def workbench_page(
    request: Request[Any, Any, Any], hashed_id: Annotated[str, PathParameter()]
) -> Response[str]:
    """The sandbox page of one client, on the console host; the JS brings the token."""
    host = resolved_host_of(request)
    client_id = decode_hashed_id(hashed_id)
    if client_id is None or host is None or host.kind is not HostKind.CONSOLE:
        raise NotFound("no such workbench: the link is not one of this platform's")
    base = f"/api/v1/llm-clients/{client_id}"
    return render_page("sandbox", f"{base}/config/", f"{base}/prompt/")


@get(f"{ASSETS_PATH}/{{name:str}}", include_in_schema=False)
async def chat_asset(name: Annotated[str, PathParameter()]) -> Response[str]:
    media_type = ASSET_TYPES.get(name)
    if media_type is None:
        raise NotFound("no such chat page asset")
    return Response(
        _static(name),
        media_type=media_type,
        headers={
            "Cache-Control": "public, max-age=86400",
            "X-Content-Type-Options": "nosniff",
        },
    )


# Where each handler goes: the client-host routes and the console app's routes.
CLIENT_HOST_PAGE_ROUTES: Final[list[HTTPRouteHandler]] = [client_chat_page, chat_asset]
CONSOLE_PAGE_ROUTES: Final[list[HTTPRouteHandler]] = [workbench_page, chat_asset]
