"""The host gate: every request's Host is classified before any routing; an unknown Host
is answered 400 before it reaches a route.

It wraps the whole ASGI application. An invalid host, or a host of another environment, gets
400 with the router's reason; console and API hosts go on to the application; client and
custom-domain hosts go to the client-host application (client_hosts.py), so that neither
serves the other's routes. The probes (`/healthz`, `/readyz`) answer on any host, because
Kubernetes probes use the pod's IP address; so does `/metrics`, except on the platform's public
hosts outside `local`.

The resolved host is kept in the request's state (`resolved_host_of(request)`), so that the
routes that serve client hosts need not resolve it again. The gate is also the last line of
defence: an exception that escapes everything else becomes a JSON 500, never a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from dishka import AsyncContainer
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from smarter.domain.environments import Environment
from smarter.domain.host_router import HostKind, HostRouter, ResolvedHost
from smarter.entrypoints.http.errors import INTERNAL_ERROR, ErrorBody
from smarter.entrypoints.http.health import PROBE_PATHS

logger = logging.getLogger("smarter.http")

STATE_KEY = "resolved_host"
APPLICATION_HOSTS = frozenset({HostKind.CONSOLE, HostKind.API})
CLIENT_HOSTS = frozenset({HostKind.CLIENT, HostKind.CUSTOM_DOMAIN})
METRICS_PATH = "/metrics"


def resolved_host_of(connection: ASGIConnection[Any, Any, Any, Any]) -> ResolvedHost | None:
    """The host the gate resolved for this request (None on the probes)."""
    resolved: ResolvedHost | None = connection.scope.get("state", {}).get(STATE_KEY)
    return resolved


def refusal(resolved: ResolvedHost, environment: Environment) -> tuple[int, str] | None:
    """Why the platform will not serve this host here, as (status, reason); None to serve it."""
    if resolved.kind is HostKind.INVALID:
        return 400, f"invalid host '{resolved.host}': {resolved.reason}"
    if resolved.environment is not None and resolved.environment is not environment:
        return 400, (
            f"host '{resolved.host}' belongs to the {resolved.environment.value} environment,"
            f" this is {environment.value}"
        )
    if resolved.kind not in APPLICATION_HOSTS and resolved.kind not in CLIENT_HOSTS:
        return 404, f"nothing is served on host '{resolved.host}'"
    return None


class HostGate:
    def __init__(
        self,
        app: ASGIApp,
        container: AsyncContainer,
        environment: Environment,
        client_hosts: ASGIApp | None = None,
    ) -> None:
        self._app = app
        self._client_hosts = client_hosts
        self._container = container
        self._environment = environment
        self._router: HostRouter | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in (ScopeType.HTTP, ScopeType.WEBSOCKET):
            await self._app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._gate(scope, receive, tracking_send)
        except Exception:
            logger.exception("unhandled error on %s %s", scope.get("method"), scope["path"])
            if started or scope["type"] != ScopeType.HTTP:
                raise
            await _refuse(scope, send, 500, INTERNAL_ERROR)

    async def _gate(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"].rstrip("/")
        if path not in PROBE_PATHS:
            resolved = (await self._host_router()).resolve(_host_header(scope))
            refused = refusal(resolved, self._environment)
            if path == METRICS_PATH:
                await self._metrics(scope, receive, send, public=refused is None)
                return
            if refused is not None:
                await _refuse(scope, send, *refused)
                return
            scope.setdefault("state", {})[STATE_KEY] = resolved
            if resolved.kind in CLIENT_HOSTS:
                if self._client_hosts is None:
                    await _refuse(scope, send, 404, f"nothing is served on '{resolved.host}'")
                    return
                await self._client_hosts(scope, receive, send)
                return
        await self._app(scope, receive, send)

    async def _metrics(self, scope: Scope, receive: Receive, send: Send, *, public: bool) -> None:
        """Metrics are for Prometheus, which scrapes the pod's address: outside `local` they
        are not served on the platform's public hosts (the ones the ingress routes)."""
        if public and self._environment is not Environment.LOCAL:
            await _refuse(scope, send, 404, "metrics are not served on public hosts")
            return
        await self._app(scope, receive, send)

    async def _host_router(self) -> HostRouter:
        if self._router is None:
            self._router = await self._container.get(HostRouter)
        return self._router


def _host_header(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"host":
            return value.decode("latin-1")
    return ""


async def _refuse(scope: Scope, send: Send, status: int, detail: str) -> None:
    if scope["type"] == ScopeType.WEBSOCKET:
        await send({"type": "websocket.close", "code": 1008, "reason": detail[:120]})
        return
    body = msgspec.json.encode(ErrorBody(status_code=status, detail=detail))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
