"""The outermost layer of the HTTP application: each request's id and its metrics.

The request id is the caller's `X-Request-Id` when it is a sane token (ingress controllers such
as ingress-nginx send one with every request), else a new one; it goes back in `X-Request-Id`,
into the log lines written while serving the request and into the jobs the request causes
(`REQUEST_ID`). A chat turn's own id (its history key, which must be unique) is the request id
when the platform made it; a caller's id is not trusted to be unique, so the turn then gets
its own, sent back as `request_id` in the chat's answer.

Metrics: requests by route kind and status, and their duration to the last byte (see
`adapters/prometheus_metrics.py`). The kind comes from the host the gate resolved.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any, Final

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from smarter.adapters.prometheus_metrics import HTTP_DURATION, HTTP_REQUESTS
from smarter.application.request_context import REQUEST_ID
from smarter.entrypoints.http.health import PROBE_PATHS
from smarter.entrypoints.http.host_gate import CLIENT_HOSTS, METRICS_PATH, STATE_KEY

HEADER: Final = b"x-request-id"
GENERATED_KEY: Final = "request_id_generated"
_SANE: Final = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")
_CHAT_PATHS: Final = frozenset({"/llm-client", "/v1/chat/completions"})
_SANDBOX_CHAT: Final = re.compile(r"/api/v1/llm-clients/\d+/prompt/?")


def platform_request_id(scope: Scope) -> str | None:
    """The request's id if the platform made it (so unique), else None."""
    state = scope.get("state", {})
    return state.get("request_id") if state.get(GENERATED_KEY) else None


def route_kind(scope: Scope) -> str:
    path = scope["path"].rstrip("/") or "/"
    if path in PROBE_PATHS:
        return "probe"
    if path == METRICS_PATH:
        return "metrics"
    resolved = scope.get("state", {}).get(STATE_KEY)
    if resolved is None:
        return "refused"  # a host the platform does not serve
    if resolved.kind in CLIENT_HOSTS:
        if path in _CHAT_PATHS:
            return "chat"
        return "config" if path == "/config" else "page"
    if _SANDBOX_CHAT.fullmatch(path):
        return "chat"
    if path.endswith("/config"):
        return "config"
    return "page" if path.startswith("/workbench/") else "console"


class Observed:
    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._durations: dict[str, Any] = {}
        self._counts: dict[tuple[str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        request_id, generated = _incoming(scope)
        state = scope.setdefault("state", {})
        state["request_id"], state[GENERATED_KEY] = request_id, generated
        token = REQUEST_ID.set(request_id)
        status = 500  # what the server answers when the app fails before starting a response
        started = time.perf_counter()

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers") or () if h[0].lower() != HEADER]
                message["headers"] = [*headers, (HEADER, request_id.encode("ascii"))]
            await send(message)

        try:
            await self._app(scope, receive, observed_send)
        finally:
            REQUEST_ID.reset(token)
            self._observe(route_kind(scope), status, time.perf_counter() - started)

    def _observe(self, kind: str, status: int, seconds: float) -> None:
        duration = self._durations.get(kind)
        if duration is None:
            duration = self._durations[kind] = HTTP_DURATION.labels(kind)
        duration.observe(seconds)
        count = self._counts.get((kind, status))
        if count is None:
            count = self._counts[(kind, status)] = HTTP_REQUESTS.labels(kind, str(status))
        count.inc()


def _incoming(scope: Scope) -> tuple[str, bool]:
    for name, value in scope["headers"]:
        if name == HEADER and _SANE.fullmatch(value):
            return value.decode("ascii"), False
    return uuid.uuid4().hex, True
