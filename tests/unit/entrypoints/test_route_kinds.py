"""Each request is counted under the kind of route it reached, from the host the gate resolved."""

from __future__ import annotations

from typing import Any

import pytest

from smarter.domain.environments import Platform
from smarter.domain.host_router import HostRouter
from smarter.entrypoints.http.host_gate import STATE_KEY
from smarter.entrypoints.http.observed import route_kind

ROUTER = HostRouter(Platform())
CLIENT = "example.1111-2222-3333.api.localhost:9357"
CONSOLE = "localhost:9357"


def scope(path: str, host: str | None) -> dict[str, Any]:
    state = {} if host is None else {STATE_KEY: ROUTER.resolve(host)}
    return {"type": "http", "path": path, "state": state}


@pytest.mark.parametrize(
    ("path", "host", "kind"),
    [
        ("/llm-client/", CLIENT, "chat"),
        ("/v1/chat/completions", CLIENT, "chat"),
        ("/config/", CLIENT, "config"),
        ("/", CLIENT, "page"),
        ("/embed.js", CLIENT, "page"),
        ("/api/v1/llm-clients/", CONSOLE, "console"),
        ("/api/v1/llm-clients/7/prompt/", CONSOLE, "chat"),
        ("/api/v1/llm-clients/7/config/", CONSOLE, "config"),
        ("/workbench/llm-clients/rMTAwMDAwNgx/", CONSOLE, "page"),
        ("/healthz", None, "probe"),
        ("/readyz", None, "probe"),
        ("/metrics", None, "metrics"),
        ("/anything", None, "refused"),
    ],
)
def test_a_request_is_counted_under_its_route_kind(path: str, host: str | None, kind: str) -> None:
    assert route_kind(scope(path, host)) == kind
