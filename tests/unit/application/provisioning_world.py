"""The provisioning worker on fakes: the application world plus fake zones, DNS, cluster and
certificates, and the jobs that drive them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from smarter.application.jobs import Job, ReconcileClient
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

    async def run_queued(
        self, *jobs: Job, for_seconds: float | None = None, limit: int = 200
    ) -> list[tuple[Job, float | None]]:
        """Work as the worker does: run `jobs` and those in the outbox, and again each run
        that asks for time, in order of when they are due (the clock jumps ahead to each),
        until none is left or the next is due after `for_seconds`; the runs and answers."""
        clock, outbox = self.world.clock, self.world.uow.outbox
        start = clock.now()
        due: dict[Job, datetime] = {}

        def want(job: Job, at: datetime) -> None:
            if job not in due or at < due[job]:
                due[job] = at

        for job in jobs:
            want(job, start)
        runs: list[tuple[Job, float | None]] = []
        for _ in range(limit):
            for job in outbox.committed:
                want(job, clock.now())
            outbox.committed.clear()
            if not due:
                return runs
            job = min(due, key=lambda j: due[j])
            at = due.pop(job)
            if for_seconds is not None and (at - start).total_seconds() > for_seconds:
                return runs
            if at > clock.now():
                clock.advance((at - clock.now()).total_seconds())
            answer = await self.run(job)
            runs.append((job, answer))
            if answer is not None:
                want(job, clock.now() + timedelta(seconds=answer))
        raise AssertionError("the jobs keep queueing jobs")

    async def reconcile(self, client_id: int, **options: Any) -> list[float | None]:
        """Run the client's job and whatever it causes; the answers of the client's runs."""
        job = ReconcileClient(client_id=client_id)
        return [answer for run, answer in await self.run_queued(job, **options) if run == job]

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
