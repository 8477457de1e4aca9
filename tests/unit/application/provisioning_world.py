"""The provisioning worker on fakes: the application world plus fake zones, DNS, cluster and
certificates, and the jobs that drive them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from smarter.application.jobs import Job
from smarter.application.provisioning import (
    ProviderFailures,
    ProvisioningJobs,
    ProvisioningPolicy,
)
from smarter.domain.llm_client import LLMClient
from tests.fakes_infrastructure import (
    Calls,
    FakeCertificates,
    FakeCluster,
    FakeDnsResolver,
    FakeDnsZones,
)
from tests.unit.application.conftest import World

TARGET = "ingress.alpha.example.com"
POLICY = ProvisioningPolicy(
    ingress_target=TARGET,
    platform_zone="example.com",
    verification_window_seconds=600,
    first_retry_seconds=5,
    max_retry_seconds=120,
    domain_verification_window_seconds=3600,
)


@dataclass
class Infra:
    world: World
    calls: Calls
    zones: FakeDnsZones
    resolver: FakeDnsResolver
    cluster: FakeCluster
    certificates: FakeCertificates
    jobs: ProvisioningJobs

    async def run(self, job: Job) -> float | None:
        return await self.jobs.run(job)

    async def run_queued(self, limit: int = 20) -> list[float | None]:
        """Run the jobs the outbox holds (and those they queue) until none is left."""
        outbox, results = self.world.uow.outbox, list[float | None]()
        for _ in range(limit):
            if not outbox.committed:
                return results
            results.append(await self.run(outbox.committed.pop(0)))
        raise AssertionError("the jobs keep queueing jobs")

    def client(self, client_id: int) -> LLMClient:
        return self.world.stored(client_id)

    def events(self, client_id: int) -> list[tuple[str, str, str]]:
        return [
            (e.field.value, str(e.from_status), str(e.to_status))
            for e in self.world.uow.clients.events_by_client.get(client_id, [])
        ]

    def records(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        return {r.name: (r.type, r.values) for r in self.zones.all_records()}


@pytest.fixture(name="infra")
def infra_fixture(world: World) -> Infra:
    calls = Calls()
    zones = FakeDnsZones(calls)
    resolver = FakeDnsResolver(calls, zones)
    cluster = FakeCluster(calls)
    certificates = FakeCertificates(calls, world.clock)
    world.uow.provisioning.clock = world.clock
    jobs = ProvisioningJobs(
        world.uow,
        world.clock,
        world.platform,
        zones,
        resolver,
        cluster,
        certificates,
        POLICY,
        ProviderFailures(),
    )
    return Infra(world, calls, zones, resolver, cluster, certificates, jobs)
