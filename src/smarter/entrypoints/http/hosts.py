"""`GET /api/v1/hosts/resolve`: what the platform makes of a host (an operator's diagnostic).

Public: it tells nothing about any account, only how the host rules read a name.
"""

from __future__ import annotations

from typing import Annotated

from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, get
from litestar.params import QueryParameter

from smarter.domain.host_router import HostRouter, ResolvedHost
from smarter.entrypoints.http.errors import error_responses


class HostsController(Controller):
    path = "/api/v1/hosts"
    tags = ["diagnostics"]

    @get(
        "/resolve",
        summary="Classify a Host header with the platform's host rules",
        responses=error_responses(400),
    )
    @inject
    async def resolve(
        self,
        router: FromDishka[HostRouter],
        host: Annotated[str, QueryParameter(max_length=1024, description="A Host header")],
    ) -> ResolvedHost:
        return router.resolve(host)
