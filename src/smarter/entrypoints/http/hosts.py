"""`GET /api/v1/hosts/resolve`: what the platform makes of a host (an operator's diagnostic)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import Parameter

from smarter.domain.host_router import HostRouter, ResolvedHost


class HostsController(Controller):
    path = "/api/v1/hosts"
    tags = ["diagnostics"]

    @get("/resolve", summary="Classify a Host header with the platform's host rules")
    async def resolve(
        self, router: HostRouter, host: str = Parameter(query="host", max_length=1024)
    ) -> ResolvedHost:
        return router.resolve(host)
