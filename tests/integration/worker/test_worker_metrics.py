"""What the worker tells Prometheus: provisioning jobs by type and outcome with their
durations, and the clients by DNS and TLS status."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from dishka import AsyncContainer
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from smarter.adapters.prometheus_metrics import CLIENT_STATUSES
from smarter.adapters.sql.client_status_counts import clients_by_status
from smarter.entrypoints.settings import Settings
from smarter.entrypoints.wiring import make_container
from smarter.entrypoints.worker import EmbeddedProvisioning
from tests.integration.worker.test_embedded_provisioning import _client, _deployed_client

DONE = ("smarter_jobs_total", {"type": "ReconcileClient", "outcome": "done"})
TIMED = ("smarter_job_duration_seconds_count", {"type": "ReconcileClient"})


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def embedded(database_url: str) -> AsyncIterator[tuple[AsyncContainer, EmbeddedProvisioning]]:
    settings = dataclasses.replace(Settings(), database_url=database_url, demo=False)
    container = make_container(settings)
    embedded = EmbeddedProvisioning(container, settings)
    await embedded.start(sweep=False)
    yield container, embedded
    await embedded.stop()
    await container.close()


async def test_each_provisioning_job_is_counted_by_type_and_outcome_and_timed(
    embedded: tuple[AsyncContainer, EmbeddedProvisioning],
) -> None:
    container, provisioning = embedded
    before = sample(*DONE), sample(*TIMED)

    client_id = await _deployed_client(container)
    await provisioning.run_pending()  # relays the deploy's job and waits until jobs are done

    assert (await _client(container, client_id)).ready
    assert sample(*DONE) - before[0] >= 1
    assert sample(*TIMED) - before[1] >= 1


async def test_clients_are_counted_by_dns_and_tls_status(
    embedded: tuple[AsyncContainer, EmbeddedProvisioning],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    container, provisioning = embedded
    await _deployed_client(container)
    await provisioning.run_pending()

    CLIENT_STATUSES.update(await clients_by_status(sessions))

    ready = {"dns": "Verified", "tls": "Issued", "deployed": "true"}
    waiting = {"dns": "Not Verified", "tls": "No Certificate", "deployed": "true"}
    assert sample("smarter_clients", ready) == 1
    assert sample("smarter_clients", waiting) == 0
