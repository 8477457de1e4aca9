"""The Litestar application, built from settings by a function."""

from __future__ import annotations

from litestar import Litestar, get
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from smarter.domain.host_router import HostRouter
from smarter.entrypoints.http.hosts import HostsController
from smarter.entrypoints.settings import Settings


@get("/healthz", summary="Liveness probe", tags=["diagnostics"])
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def create_app(settings: Settings) -> Litestar:
    router = HostRouter(settings.platform)
    return Litestar(
        route_handlers=[healthz, HostsController],
        dependencies={"router": Provide(lambda: router, use_cache=True, sync_to_thread=False)},
        openapi_config=OpenAPIConfig(title="Smarter", version="0.1.0", path="/api/docs"),
    )
