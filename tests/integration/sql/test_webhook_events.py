"""Webhook events from provisioning's real transitions, on SQLite and PostgreSQL: the
reconciler, the domain verifier and certificate renewal run on the SQL unit of work (with the
infrastructure fakes), and each announced event is a delivery stored in its transaction."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

import msgspec
import pytest
from sqlalchemy import select

from smarter.adapters.sql.rows import WebhookDeliveryRow
from smarter.adapters.sql.unit_of_work import SqlUnitOfWork
from smarter.application.jobs import (
    FlushDnsChanges,
    Job,
    ReconcileClient,
    RenewCertificate,
    VerifyCustomDomain,
)
from smarter.application.provisioning import ProviderFailures, ProvisioningJobs, ProvisioningPolicy
from smarter.domain.account_number import AccountNumber
from smarter.domain.custom_domain import CustomDomain
from smarter.domain.environments import Platform
from smarter.domain.webhooks import WebhookEndpoint, WebhookEventType
from tests.fakes import FakeClock
from tests.fakes_infrastructure import (
    Calls,
    FakeCertificates,
    FakeCluster,
    FakeDnsResolver,
    FakeDnsZones,
)

from .factories import MOMENT, NUMBER, OTHER_NUMBER, a_stored_client, an_account_with_admin

NewUoW = Callable[[], AbstractAsyncContextManager[SqlUnitOfWork]]
Type = WebhookEventType


class Worker:
    """The provisioning jobs on a fresh unit of work per run, as the worker runs them."""

    def __init__(self, new_uow: NewUoW, platform: Platform) -> None:
        self.new_uow, self.platform = new_uow, platform
        self.clock, self.calls = FakeClock(), Calls()
        self.zones = FakeDnsZones(self.calls)
        self.resolver = FakeDnsResolver(self.calls, self.zones)
        self.certificates = FakeCertificates(self.calls, self.clock)
        self.policy = ProvisioningPolicy(
            ingress_target="ingress.example.com",
            platform_zone="example.com",
            verification_window_seconds=60,
            dns_batch_window_seconds=0.0,
        )

    async def run(self, job: Job) -> float | None:
        """Run `job`; a client's records go out in their zone's next batch, which is sent
        right after (and a client waiting for it runs once more, as the batch wakes it)."""
        answer = await self._run(job)
        if isinstance(job, ReconcileClient):
            for zone_id in list(self.zones.zones):
                for _ in range(10):
                    if await self._run(FlushDnsChanges(zone_id=zone_id)) is None:
                        break
            if answer is not None:
                answer = await self._run(job)
        return answer

    async def _run(self, job: Job) -> float | None:
        async with self.new_uow() as uow:
            jobs = ProvisioningJobs(
                uow,
                self.clock,
                self.platform,
                self.zones,
                self.resolver,
                FakeCluster(self.calls),
                self.certificates,
                self.policy,
                ProviderFailures(),
            )
            return await jobs.run(job)


async def subscribe(uow: SqlUnitOfWork, account: AccountNumber, *types: Type) -> int:
    endpoint = await uow.webhooks.add(
        WebhookEndpoint(
            account_number=account,
            url="https://hooks.customer.example/",
            event_types=types or tuple(Type),
            sealed_secret="sealed",
        )
    )
    assert endpoint.id is not None
    return endpoint.id


async def announced(new_uow: NewUoW, endpoint_id: int) -> list[tuple[str, dict[str, object]]]:
    """(event type, body) of the endpoint's deliveries, oldest first."""
    async with new_uow() as uow:
        rows = await uow.session.scalars(
            select(WebhookDeliveryRow)
            .where(WebhookDeliveryRow.endpoint_id == endpoint_id)
            .order_by(WebhookDeliveryRow.id)
        )
        return [(row.event_type, msgspec.json.decode(row.payload)) for row in rows]


@pytest.fixture
def worker(new_uow: NewUoW, platform: Platform) -> Worker:
    return Worker(new_uow, platform)


async def deployed_client(uow: SqlUnitOfWork, platform: Platform) -> int:
    _, admin = await an_account_with_admin(uow)
    client = await a_stored_client(uow, admin, platform)
    client.request_deployment(MOMENT)
    await uow.clients.save(client)
    await uow.commit()
    assert client.id is not None
    return client.id


async def test_a_deploy_announces_the_certificate_and_the_client_ready(
    uow: SqlUnitOfWork, new_uow: NewUoW, platform: Platform, worker: Worker
) -> None:
    client_id = await deployed_client(uow, platform)
    everything = await subscribe(uow, NUMBER)
    only_failures = await subscribe(uow, NUMBER, Type.CLIENT_FAILED)
    _, _ = await an_account_with_admin(uow, OTHER_NUMBER)
    strangers = await subscribe(uow, OTHER_NUMBER)
    await uow.commit()

    assert await worker.run(ReconcileClient(client_id=client_id)) is None

    events = await announced(new_uow, everything)
    assert [kind for kind, _ in events] == ["certificate.issued", "client.ready"]
    certificate, ready = events[0][1], events[1][1]
    assert certificate["data"]["certificate"]["name"] == "wildcard-3141-5926-5359"  # type: ignore[index]
    assert ready["type"] == "client.ready"
    assert ready["data"]["llm_client"]["id"] == client_id  # type: ignore[index]
    assert await announced(new_uow, only_failures) == []
    assert await announced(new_uow, strangers) == []
    assert await worker.run(ReconcileClient(client_id=client_id)) is None  # nothing changed
    assert len(await announced(new_uow, everything)) == 2


async def test_a_verification_that_runs_out_announces_the_client_failed(
    uow: SqlUnitOfWork, new_uow: NewUoW, platform: Platform, worker: Worker
) -> None:
    client_id = await deployed_client(uow, platform)
    endpoint = await subscribe(uow, NUMBER, Type.CLIENT_FAILED, Type.CLIENT_READY)
    await uow.commit()
    worker.resolver.answering = False

    assert await worker.run(ReconcileClient(client_id=client_id)) is not None
    assert await announced(new_uow, endpoint) == []
    worker.clock.advance(61)
    await worker.run(ReconcileClient(client_id=client_id))

    ((kind, body),) = await announced(new_uow, endpoint)
    assert kind == "client.failed"
    assert "did not resolve" in str(body["data"]["reason"])  # type: ignore[index]


async def test_an_undeploy_and_a_delete_announce_the_client_undeployed(
    uow: SqlUnitOfWork, new_uow: NewUoW, platform: Platform, worker: Worker
) -> None:
    client_id = await deployed_client(uow, platform)
    endpoint = await subscribe(uow, NUMBER, Type.CLIENT_UNDEPLOYED)
    await uow.commit()
    await worker.run(ReconcileClient(client_id=client_id))
    async with new_uow() as api:
        client = await api.clients.get(NUMBER, client_id)
        client.request_undeployment(MOMENT)
        await api.clients.save(client)
        await api.commit()
    await worker.run(ReconcileClient(client_id=client_id))
    async with new_uow() as api:
        client = await api.clients.get(NUMBER, client_id)
        client.request_deployment(MOMENT)
        await api.clients.save(client)
        await api.commit()
    await worker.run(ReconcileClient(client_id=client_id))
    async with new_uow() as api:
        client = await api.clients.get(NUMBER, client_id)
        client.request_deletion(MOMENT)
        await api.clients.save(client)
        await api.commit()
    await worker.run(ReconcileClient(client_id=client_id))

    events = await announced(new_uow, endpoint)
    assert [kind for kind, _ in events] == ["client.undeployed", "client.undeployed"]
    assert [body["data"]["deleted"] for _, body in events] == [False, True]  # type: ignore[index]


async def test_a_domain_verification_announces_the_domain_verified(
    uow: SqlUnitOfWork, new_uow: NewUoW, worker: Worker
) -> None:
    await an_account_with_admin(uow)
    endpoint = await subscribe(uow, NUMBER, Type.DOMAIN_VERIFIED)
    domain = await uow.domains.add(CustomDomain(domain_name="customer.com", account_number=NUMBER))
    await uow.commit()
    assert domain.id is not None
    job = VerifyCustomDomain(domain_id=domain.id)

    await worker.run(job)  # zone and marker made; not delegated yet
    assert await announced(new_uow, endpoint) == []
    zone = next(z for z in worker.zones.zones.values() if z.name == "customer.com")
    worker.resolver.delegations["customer.com"] = zone.id
    await worker.run(job)

    ((kind, body),) = await announced(new_uow, endpoint)
    assert kind == "domain.verified"
    assert body["data"]["custom_domain"]["domain_name"] == "customer.com"  # type: ignore[index]


async def test_a_renewal_announces_the_certificate_renewed(
    uow: SqlUnitOfWork, new_uow: NewUoW, platform: Platform, worker: Worker
) -> None:
    client_id = await deployed_client(uow, platform)
    endpoint = await subscribe(uow, NUMBER, Type.CERTIFICATE_RENEWED)
    await uow.commit()
    await worker.run(ReconcileClient(client_id=client_id))
    worker.clock.advance(timedelta(days=61).total_seconds())

    await worker.run(RenewCertificate(name="wildcard-3141-5926-5359"))

    ((kind, body),) = await announced(new_uow, endpoint)
    assert kind == "certificate.renewed"
    assert body["data"]["certificate"]["hosts"] == [  # type: ignore[index]
        "*.3141-5926-5359.api.local.example.com"
    ]


async def test_a_change_rolled_back_announces_nothing(
    uow: SqlUnitOfWork, new_uow: NewUoW, platform: Platform, worker: Worker
) -> None:
    client_id = await deployed_client(uow, platform)
    endpoint = await subscribe(uow, NUMBER, Type.CLIENT_UNDEPLOYED)
    await uow.commit()
    await worker.run(ReconcileClient(client_id=client_id))
    async with new_uow() as worker_uow:
        client = await worker_uow.clients.get(NUMBER, client_id)
        client.request_undeployment(MOMENT)
        client.reset_statuses("torn down", MOMENT)
        await worker_uow.clients.save(client)
        await worker_uow.rollback()

    assert await announced(new_uow, endpoint) == []
