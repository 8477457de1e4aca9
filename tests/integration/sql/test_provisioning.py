"""Provisioning's observed state against SQLite and PostgreSQL, and the reconciler on it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import msgspec
import pytest
from alembic import command

from smarter.adapters.sql.database import make_engine, make_session_factory
from smarter.adapters.sql.migrations import alembic_config, upgrade_to_head_async
from smarter.adapters.sql.rows import Base
from smarter.adapters.sql.unit_of_work import SqlUnitOfWork
from smarter.application.jobs import FlushDnsChanges, Job, ReconcileClient
from smarter.application.ports import ClientFilter
from smarter.application.provisioning import ProviderFailures, ProvisioningJobs, ProvisioningPolicy
from smarter.domain.custom_domain import CustomDomain
from smarter.domain.environments import Platform
from smarter.domain.provisioning import (
    CertificatePhase,
    HostCheck,
    HostRole,
    ManagedCertificate,
    ProvisionedHost,
)
from smarter.domain.status import DnsVerificationStatus as Dns
from smarter.domain.status import TlsCertificateIssuanceStatus as Tls
from tests.fakes import FakeClock
from tests.fakes_infrastructure import (
    Calls,
    FakeCertificates,
    FakeCluster,
    FakeDnsResolver,
    FakeDnsZones,
)

from ..conftest import DIALECTS, fresh_database, run_in_thread
from .factories import (
    MOMENT,
    NUMBER,
    OTHER_NUMBER,
    a_stored_client,
    an_account_with_admin,
    later,
)
from .test_migrations import _schema_differences

NewUoW = Callable[[], AbstractAsyncContextManager[SqlUnitOfWork]]


def a_host(
    client_id: int, host: str = "example.3141-5926-5359.api.local.example.com"
) -> ProvisionedHost:
    return ProvisionedHost(
        host=host,
        client_id=client_id,
        role=HostRole.DEFAULT,
        zone_id="Z1",
        record_type="CNAME",
        target="ingress.example.com",
        certificate_name="wildcard-3141-5926-5359",
        ingress_name="client-example",
        check=HostCheck.VERIFYING,
        record_change_id=1,
        verify_started_at=MOMENT,
        updated_at=MOMENT,
    )


def a_certificate(name: str = "wildcard-3141-5926-5359") -> ManagedCertificate:
    return ManagedCertificate(
        name=name,
        hosts=("*.3141-5926-5359.api.local.example.com",),
        phase=CertificatePhase.READY,
        requested_at=MOMENT,
        not_before=MOMENT,
        not_after=later(90 * 86400),
        renew_after=later(60 * 86400),
    )


async def test_hosts_and_certificates_read_back_and_are_replaced_by_name(
    uow: SqlUnitOfWork, new_uow: NewUoW, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    client = await a_stored_client(uow, admin, platform)
    assert client.id is not None
    host = a_host(client.id)
    await uow.provisioning.save_host(host)
    await uow.provisioning.save_certificate(a_certificate())
    await uow.commit()
    host.check, host.record_change_id, host.ingress_applied = HostCheck.VERIFIED, None, True
    await uow.provisioning.save_host(host)
    await uow.commit()

    async with new_uow() as other:
        assert await other.provisioning.hosts_of(client.id) == [host]
        assert await other.provisioning.certificate("wildcard-3141-5926-5359") == a_certificate()
        assert await other.provisioning.certificate_users("wildcard-3141-5926-5359") == [client.id]
        assert await other.provisioning.unused_certificates(10) == []
        await other.provisioning.delete_host(host.host)
        assert await other.provisioning.unused_certificates(10) == ["wildcard-3141-5926-5359"]
        await other.provisioning.delete_certificate("wildcard-3141-5926-5359")
        assert await other.provisioning.certificate("wildcard-3141-5926-5359") is None


async def test_certificates_past_their_renewal_point_or_renewing_are_due(
    uow: SqlUnitOfWork,
) -> None:
    renewing = a_certificate("renewing")
    renewing.renewing, renewing.renew_after = True, later(999 * 86400)
    await uow.provisioning.save_certificate(a_certificate("fresh"))
    await uow.provisioning.save_certificate(renewing)
    await uow.commit()

    assert await uow.provisioning.certificates_to_renew(later(59 * 86400), 10) == ["renewing"]
    assert await uow.provisioning.certificates_to_renew(later(61 * 86400), 10) == [
        "fresh",
        "renewing",
    ]


async def test_the_sweep_finds_clients_whose_observed_state_lags(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)

    async def client(name: str, deployed: bool, dns: Dns = Dns.NOT_VERIFIED) -> int:
        stored = await a_stored_client(uow, admin, platform, name)
        stored.deployed = deployed
        if dns is not Dns.NOT_VERIFIED:
            stored.move_dns(Dns.VERIFYING, "test", MOMENT)
            if dns is not Dns.VERIFYING:
                stored.move_dns(dns, "test", MOMENT)
        await uow.clients.save(stored)
        assert stored.id is not None
        return stored.id

    waiting = await client("waiting", True, Dns.VERIFYING)
    await client("failed", True, Dns.FAILED)
    await client("never", False)
    undeployed = await client("undeployed", False, Dns.VERIFIED)
    leftover = await client("leftover", False)
    await uow.provisioning.save_host(a_host(leftover))
    deleting = await a_stored_client(uow, admin, platform, "deleting")
    deleting.request_deletion(MOMENT)
    await uow.clients.save(deleting)
    serving = await served(uow, await client("serving", True, Dns.VERIFIED), "serving")
    domain = await uow.domains.add(CustomDomain(domain_name="customer.com", account_number=NUMBER))
    domain.is_verified = True
    await uow.domains.save(domain)
    gaining = await served(uow, await client("gaining", True, Dns.VERIFIED), "gaining")
    gaining_client = await uow.clients.get(NUMBER, gaining)
    gaining_client.custom_domain = domain
    await uow.clients.save(gaining_client)
    await uow.commit()

    lagging = await uow.provisioning.lagging_clients(10)

    assert lagging == [waiting, undeployed, leftover, deleting.id, gaining]
    assert serving not in lagging
    await uow.provisioning.delete_certificate("wildcard-3141-5926-5359")
    assert serving in await uow.provisioning.lagging_clients(10)
    assert await uow.provisioning.lagging_clients(2) == [waiting, undeployed]


async def served(uow: SqlUnitOfWork, client_id: int, name: str) -> int:
    """The client with its certificate issued and its default host provisioned."""
    client = await uow.clients.get(NUMBER, client_id)
    client.move_tls(Tls.REQUESTED, "test", MOMENT)
    client.move_tls(Tls.ISSUED, "test", MOMENT)
    await uow.clients.save(client)
    host = a_host(client_id, f"{name}.3141-5926-5359.api.local.example.com")
    host.check, host.ingress_applied = HostCheck.VERIFIED, True
    await uow.provisioning.save_host(host)
    await uow.provisioning.save_certificate(a_certificate(host.certificate_name))
    return client_id


async def test_a_client_being_deleted_is_found_only_by_the_worker(
    uow: SqlUnitOfWork, new_uow: NewUoW, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    client = await a_stored_client(uow, admin, platform)
    client.request_deletion(MOMENT)
    await uow.clients.save(client)
    await uow.commit()
    assert client.id is not None

    async with new_uow() as other:
        found = await other.clients.find(client.id)
        assert found is not None and found.deletion_requested_at == MOMENT
        assert await other.clients.get_by_name(NUMBER, "example") is None
        assert (await other.clients.page(NUMBER, ClientFilter())).total == 0


async def test_saving_statuses_keeps_what_the_customer_changed_meanwhile(
    uow: SqlUnitOfWork, new_uow: NewUoW, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    client = await a_stored_client(uow, admin, platform)
    client.request_deployment(MOMENT)
    await uow.clients.save(client)
    await uow.commit()
    assert client.id is not None
    worker_copy = await uow.clients.find(client.id)
    assert worker_copy is not None
    async with new_uow() as api:
        mine = await api.clients.get(NUMBER, client.id)
        mine.request_undeployment(MOMENT)
        await api.clients.save(mine)
        await api.commit()

    worker_copy.move_dns(Dns.VERIFYING, "record written", MOMENT)
    await uow.clients.save_statuses(worker_copy)
    await uow.commit()

    async with new_uow() as other:
        stored = await other.clients.get(NUMBER, client.id)
        events = await other.clients.events(client.id)
    assert not stored.deployed and stored.dns_verification_status is Dns.VERIFYING
    assert [e.to_status for e in events][-1] == "Verifying"


async def test_registrations_of_every_account_are_visible_to_the_worker(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    await an_account_with_admin(uow, OTHER_NUMBER)
    mine = await uow.domains.add(CustomDomain(domain_name="customer.com", account_number=NUMBER))
    theirs = await uow.domains.add(
        CustomDomain(domain_name="customer.com", account_number=OTHER_NUMBER)
    )
    client = await a_stored_client(uow, admin, platform)
    client.custom_domain = mine
    await uow.clients.save(client)
    await uow.commit()
    assert mine.id is not None and theirs.id is not None

    registration = await uow.provisioning.registration(theirs.id)
    assert registration is not None
    assert registration.domain.account_number == OTHER_NUMBER
    assert [d.id for d in await uow.provisioning.registrations_named("customer.com")] == [
        mine.id,
        theirs.id,
    ]
    assert await uow.provisioning.unverified_domains(10) == [mine.id, theirs.id]
    assert await uow.provisioning.clients_on_domain(mine.id) == [client.id]
    assert await uow.provisioning.registration(9999) is None


async def test_the_reconciler_deploys_undeploys_and_deletes_on_the_database(
    uow: SqlUnitOfWork, new_uow: NewUoW, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    client = await a_stored_client(uow, admin, platform)
    client.request_deployment(MOMENT)
    await uow.clients.save(client)
    await uow.commit()
    assert client.id is not None
    clock, calls = FakeClock(), Calls()
    zones = FakeDnsZones(calls)
    certificates = FakeCertificates(calls, clock)
    cluster = FakeCluster(calls)
    policy = ProvisioningPolicy(ingress_target="ingress.example.com", platform_zone="example.com")

    async def run(job: Job) -> float | None:
        async with new_uow() as worker:
            jobs = ProvisioningJobs(
                worker,
                clock,
                platform,
                zones,
                FakeDnsResolver(calls, zones),
                cluster,
                certificates,
                policy,
                ProviderFailures(),
            )
            return await jobs.run(job)

    async def flush() -> None:
        clock.advance(policy.dns_batch_window_seconds)
        zone_id = next(iter(zones.zones))
        assert await run(FlushDnsChanges(zone_id=zone_id)) == 0.0  # sent, and live at once
        assert await run(FlushDnsChanges(zone_id=zone_id)) is None

    reconcile = ReconcileClient(client_id=client.id)
    assert await run(reconcile) == policy.verification_window_seconds  # woken by its batch
    await flush()
    assert await run(reconcile) is None
    async with new_uow() as other:
        assert (await other.clients.get(NUMBER, client.id)).is_provisioned
        assert len(await other.provisioning.hosts_of(client.id)) == 1

    async with new_uow() as api:
        loaded = await api.clients.get(NUMBER, client.id)
        loaded.request_deletion(MOMENT)
        await api.clients.save(loaded)
        await api.commit()
    assert await run(reconcile) is None
    await flush()

    async with new_uow() as other:
        assert await other.clients.find(client.id) is None
        assert await other.provisioning.certificate("wildcard-3141-5926-5359") is None
    assert zones.all_records() == [] and cluster.ingresses == {}
    assert certificates.certificates == {}


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_the_provisioning_migration_downgrades_and_upgrades_again(
    dialect: str, tmp_path: Path
) -> None:
    with fresh_database(dialect, tmp_path) as url:
        run_in_thread(command.downgrade, alembic_config(url), "0001")

        missing = {str(d) for d in await _schema_differences(url, Base.metadata)}
        assert any("provisioned_hosts" in d for d in missing)
        assert any("managed_certificates" in d for d in missing)
        assert any("deletion_requested_at" in d for d in missing)
        await upgrade_to_head_async(url)
        assert await _schema_differences(url, Base.metadata) == []


async def test_a_certificate_order_is_claimed_once_until_the_claim_goes_stale(
    uow: SqlUnitOfWork, new_uow: NewUoW
) -> None:
    def order(seconds: float) -> ManagedCertificate:
        return ManagedCertificate(
            name="wildcard",
            hosts=("*.x",),
            phase=CertificatePhase.PENDING,
            requested_at=later(seconds),
        )

    assert await uow.provisioning.claim_certificate(order(0), stale_before=later(-60))
    await uow.commit()

    async with new_uow() as other:
        assert not await other.provisioning.claim_certificate(order(10), stale_before=later(-50))
        assert await other.provisioning.claim_certificate(order(70), stale_before=later(10))
        await other.commit()
    async with new_uow() as other:
        claimed = await other.provisioning.certificate("wildcard")
        assert claimed is not None and claimed.requested_at == later(70)
        claimed.mark_ready(later(80), later(90 * 86400), 2 / 3)
        await other.provisioning.save_certificate(claimed)
        await other.commit()
    async with new_uow() as other:  # a settled certificate may be ordered again at once
        assert await other.provisioning.claim_certificate(order(100), stale_before=later(40))


async def test_two_workers_claiming_one_order_at_once_on_postgresql_get_one_claim(
    tmp_path: Path, platform: Platform
) -> None:
    order = ManagedCertificate(
        name="wildcard", hosts=("*.x",), phase=CertificatePhase.PENDING, requested_at=MOMENT
    )
    with fresh_database("postgresql", tmp_path) as url:
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        try:
            for _ in range(2):  # a new order, then a settled one ordered again
                async with sessions() as first, sessions() as second:
                    one, two = SqlUnitOfWork(first, platform), SqlUnitOfWork(second, platform)
                    assert await one.provisioning.claim_certificate(order, later(-60))
                    racing = asyncio.create_task(
                        two.provisioning.claim_certificate(order, later(-60))
                    )
                    await asyncio.sleep(0.2)  # the second waits for the first's transaction
                    assert not racing.done()
                    await one.commit()
                    assert not await racing
                    await two.rollback()
                async with sessions() as session:
                    settled = SqlUnitOfWork(session, platform)
                    await settled.provisioning.save_certificate(
                        msgspec.structs.replace(order, phase=CertificatePhase.READY)
                    )
                    await settled.commit()
        finally:
            await engine.dispose()
