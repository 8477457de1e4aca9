"""Probes, on any host (Kubernetes probes use the pod's address): `/healthz` answers while the
process serves; `/readyz` answers 200 when what the process depends on is usable and 503 naming
the failing check otherwise. And `/metrics` for Prometheus (which hosts: see host_gate.py)."""

from __future__ import annotations

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Response, get
from litestar.openapi.datastructures import ResponseSpec
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from smarter.application.health import Readiness

PROBE_PATHS = frozenset({"/healthz", "/readyz"})


@get("/metrics", include_in_schema=False, sync_to_thread=False)
def metrics() -> Response[bytes]:
    """prometheus_client's exposition of this process's metrics (one process per pod)."""
    return Response(generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


class ReadinessBody(msgspec.Struct, kw_only=True):
    status: str  # "ready" or "unavailable"
    checks: dict[str, str]  # each dependency: "ok" or what is wrong
    detail: str | None = None


@get("/healthz", summary="Liveness probe (any host)", tags=["diagnostics"])
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get(
    "/readyz",
    summary="Readiness probe (any host): database migrated, Redis reachable",
    tags=["diagnostics"],
    responses={
        503: ResponseSpec(
            data_container=ReadinessBody, description="Not ready: the failing checks, named"
        )
    },
)
@inject
async def readyz(readiness: FromDishka[Readiness]) -> Response[ReadinessBody]:
    report = await readiness()
    if report.ready:
        return Response(ReadinessBody(status="ready", checks=report.checks))
    return Response(
        ReadinessBody(
            status="unavailable", checks=report.checks, detail=f"not ready: {report.problems}"
        ),
        status_code=503,
    )
