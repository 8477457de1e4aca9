"""What the worker exports to Prometheus: each job (step) by type and outcome with its duration,
and the clients by DNS and TLS status, counted every 30 s. `smarter worker` serves them with
prometheus_client's own HTTP server on SMARTER_WORKER_METRICS_PORT; the embedded worker's show
in `serve`'s `/metrics`."""

from __future__ import annotations

import asyncio
import logging
import time

from prometheus_client import start_http_server
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from smarter.adapters.prometheus_metrics import (
    CLIENT_STATUS_SECONDS,
    CLIENT_STATUSES,
    JOB_DURATION,
    JOBS,
)
from smarter.adapters.sql.client_status_counts import clients_by_status
from smarter.application.jobs import Job
from smarter.entrypoints.settings import Settings

logger = logging.getLogger(__name__)


def record_job(job: Job, outcome: str, started: float) -> None:
    """One job (step) ran: `done`, `again` (it asked to run later) or `failed` (it raised)."""
    kind = type(job).__name__
    JOBS.labels(kind, outcome).inc()
    JOB_DURATION.labels(kind).observe(time.perf_counter() - started)


async def count_client_statuses(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Refresh `smarter_clients` until cancelled."""
    while True:
        try:
            CLIENT_STATUSES.update(await clients_by_status(sessions))
        except Exception:
            logger.warning("counting clients by status failed", exc_info=True)
        await asyncio.sleep(CLIENT_STATUS_SECONDS)


def serve_metrics(settings: Settings) -> None:
    """Start the worker's metrics endpoint (a thread), if a port is configured."""
    if settings.worker_metrics_port is not None:
        start_http_server(settings.worker_metrics_port, addr=settings.bind_host)
