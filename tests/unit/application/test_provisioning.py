"""The reconciler on fakes: deploy, wait, fail, share and renew certificates, tear down."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import msgspec
import pytest

from smarter.application.infrastructure import DnsRecord
from smarter.application.jobs import (
    FlushDnsChanges,
    FollowCertificate,
    ReconcileClient,
    ReleaseCertificate,
    RenewCertificate,
    SweepProvisioning,
    VerifyCustomDomain,
)
from smarter.application.llm_clients import (
    DeleteLLMClient,
    DeployLLMClient,
    UndeployLLMClient,
    UpdateLLMClient,
)
from smarter.application.provisioning import ProviderFailures, ProvisioningJobs
from smarter.domain.provisioning import CertificatePhase, ManagedCertificate
from smarter.domain.status import DnsVerificationStatus as Dns
from smarter.domain.status import TlsCertificateIssuanceStatus as Tls
from tests.fakes import FakeClock
from tests.fakes_infrastructure import Crash
from tests.unit.application.conftest import World
from tests.unit.application.provisioning_world import (  # noqa: F401 - the fixture
    POLICY,
    TARGET,
    Infra,
    infra_fixture,
)

HOST = "example.user123.3141-5926-5359.alpha.api.example.com"
USER_WILDCARD = "wildcard-3141-5926-5359-user123"
ADMIN_WILDCARD = "wildcard-3141-5926-5359"
INGRESS = "client-example-user123-3141-5926-5359-alpha-api-example-com"


START = FakeClock().now()


async def deployed(infra: Infra, name: str = "example", *, admin: bool = False) -> int:
    world = infra.world
    client_id = await world.deployed_client(world.admin if admin else world.user, name)
    world.uow.outbox.committed.clear()
    return client_id


async def ready(infra: Infra, name: str = "example", *, admin: bool = False) -> int:
    client_id = await deployed(infra, name, admin=admin)
    assert (await infra.reconcile(client_id))[-1] is None
    assert infra.client(client_id).is_provisioned
    return client_id


# -- deploy ------------------------------------------------------------------------------------


async def test_a_deploy_with_instant_providers_is_ready_once_its_record_batch_is_live(
    infra: Infra,
) -> None:
    client_id = await deployed(infra)

    answers = await infra.reconcile(client_id)

    # The first run asks for the record and waits; the batch going live wakes the second.
    assert answers == [POLICY.verification_window_seconds, None]
    assert infra.calls.count("zones.apply") == 1

    client = infra.client(client_id)
    assert client.is_provisioned
    assert infra.records() == {HOST: ("CNAME", (TARGET,))}
    assert infra.certificates.orders == [
        (USER_WILDCARD, ("*.user123.3141-5926-5359.alpha.api.example.com",), False)
    ]
    ingress = infra.cluster.ingresses[INGRESS]
    assert ingress.host == HOST and ingress.tls_secret == USER_WILDCARD
    assert ingress.labels["smarter.sh/account"] == "3141-5926-5359"
    assert ingress.labels["smarter.sh/client"] == str(client_id)
    assert infra.events(client_id) == [
        ("deployed", "false", "true"),
        ("dns_verification_status", "Not Verified", "Verifying"),
        ("dns_verification_status", "Verifying", "Verified"),
        ("tls_certificate_issuance_status", "No Certificate", "Requested"),
        ("tls_certificate_issuance_status", "Requested", "Issued"),
    ]


async def test_an_ipv4_ingress_target_gets_an_a_record(infra: Infra, world: World) -> None:
    policy = msgspec.structs.replace(POLICY, ingress_target="192.0.2.10")
    jobs = ProvisioningJobs(
        world.uow,
        world.clock,
        world.platform,
        infra.zones,
        infra.resolver,
        infra.cluster,
        infra.certificates,
        policy,
        ProviderFailures(),
    )
    infra.jobs = jobs
    client_id = await deployed(infra)

    await infra.reconcile(client_id)

    assert infra.records() == {HOST: ("A", ("192.0.2.10",))}
    assert infra.client(client_id).is_provisioned


async def test_waiting_for_dns_returns_a_delay_and_the_next_run_continues(
    infra: Infra, world: World
) -> None:
    client_id = await deployed(infra)
    infra.resolver.answering = False

    waiting = await infra.reconcile(client_id, for_seconds=50)
    infra.resolver.answering = True
    rest = await infra.reconcile(client_id)

    # Woken by its batch, then about as long again as it has waited since the record was
    # asked for (a second before the batch went out), from 5 s on.
    assert waiting[:4] == [POLICY.verification_window_seconds, 5, 6, 12]
    assert rest == [None]
    assert infra.client(client_id).is_provisioned
    assert infra.calls.count("zones.apply") == 1


async def test_a_host_is_not_resolved_before_its_change_is_in_sync(infra: Infra) -> None:
    client_id = await deployed(infra)
    infra.zones.sync_at_once = False

    await infra.reconcile(client_id, for_seconds=60)

    assert infra.calls.count("resolver.resolve") == 0
    assert infra.calls.count("zones.is_in_sync") >= 2  # the batch, polled with backoff
    assert infra.client(client_id).dns_verification_status is Dns.VERIFYING
    infra.zones.changes = dict.fromkeys(infra.zones.changes, True)
    await infra.run_queued(FlushDnsChanges(zone_id=next(iter(infra.zones.zones))))
    assert infra.client(client_id).is_provisioned


async def test_a_host_that_never_resolves_to_the_target_fails_after_the_window(
    infra: Infra, world: World
) -> None:
    client_id = await deployed(infra)
    infra.resolver.answering = False
    await infra.reconcile(client_id, for_seconds=1)
    infra.resolver.answering = True
    zone_id = next(iter(infra.zones.zones))
    infra.zones.record_sets[zone_id][(HOST, "CNAME")] = DnsRecord(
        name=HOST, type="CNAME", values=("elsewhere.example.net",)
    )
    started = world.clock.now()
    delays = await infra.reconcile(client_id)

    client = infra.client(client_id)
    assert client.dns_verification_status is Dns.FAILED
    assert client.tls_certificate_issuance_status is Tls.NO_CERTIFICATE
    reason = world.uow.clients.events_by_client[client_id][-1].reason
    assert HOST in reason and "elsewhere.example.net" in reason and "600 s" in reason
    assert delays[-1] is None
    took = (world.clock.now() - started).total_seconds()
    assert took <= POLICY.verification_window_seconds + 1
    assert infra.cluster.ingresses == {}


async def test_deploying_a_failed_client_again_retries_it(infra: Infra, world: World) -> None:
    client_id = await deployed(infra)
    infra.resolver.answering = False
    assert (await infra.reconcile(client_id))[-1] is None
    assert infra.client(client_id).dns_verification_status is Dns.FAILED
    infra.resolver.answering = True

    await DeployLLMClient(world.uow, world.clock)(world.user, client_id)
    await infra.run_queued()

    assert infra.client(client_id).is_provisioned
    assert infra.events(client_id)[-4:] == [
        ("dns_verification_status", "Failed", "Verifying"),
        ("dns_verification_status", "Verifying", "Verified"),
        ("tls_certificate_issuance_status", "No Certificate", "Requested"),
        ("tls_certificate_issuance_status", "Requested", "Issued"),
    ]


# -- certificates ------------------------------------------------------------------------------


async def test_a_pending_certificate_is_never_ordered_twice_and_wakes_its_clients_once_issued(
    infra: Infra, world: World
) -> None:
    infra.certificates.issue_at_once = False
    client_id = await deployed(infra)

    runs = await infra.run_queued(ReconcileClient(client_id=client_id), for_seconds=60)

    follows = [answer for job, answer in runs if isinstance(job, FollowCertificate)]
    assert len(follows) >= 4 and all(answer is not None for answer in follows)
    assert len(infra.certificates.orders) == 1
    assert infra.client(client_id).tls_certificate_issuance_status is Tls.REQUESTED
    assert infra.cluster.ingresses == {}  # no Ingress without its certificate
    infra.certificates.issue(USER_WILDCARD)
    await infra.run_queued(FollowCertificate(name=USER_WILDCARD), for_seconds=0)
    assert infra.client(client_id).is_provisioned
    assert INGRESS in infra.cluster.ingresses


async def test_a_failed_certificate_fails_the_client_with_the_reason(infra: Infra) -> None:
    infra.certificates.issue_at_once = False
    client_id = await deployed(infra)
    await infra.reconcile(client_id, for_seconds=2)
    infra.certificates.fail(USER_WILDCARD, "too many certificates for example.com")

    assert await infra.run(ReconcileClient(client_id=client_id)) is None

    client = infra.client(client_id)
    assert client.tls_certificate_issuance_status is Tls.FAILED
    assert client.dns_verification_status is Dns.VERIFIED
    event = infra.world.uow.clients.events_by_client[client_id][-1]
    assert "too many certificates" in event.reason and USER_WILDCARD in event.reason
    assert infra.cluster.ingresses == {}


async def test_clients_of_one_owner_share_one_wildcard_certificate_until_the_last_goes(
    infra: Infra, world: World
) -> None:
    first = await ready(infra, "first", admin=True)
    second = await ready(infra, "second", admin=True)

    assert infra.certificates.orders == [
        (ADMIN_WILDCARD, ("*.3141-5926-5359.alpha.api.example.com",), False)
    ]
    await UndeployLLMClient(world.uow, world.clock)(world.admin, first)
    await infra.run_queued()
    assert ADMIN_WILDCARD in infra.certificates.certificates
    assert infra.client(second).is_provisioned

    await UndeployLLMClient(world.uow, world.clock)(world.admin, second)
    await infra.run_queued()
    assert infra.certificates.certificates == {}
    assert world.uow.provisioning.certificates == {}


async def test_a_non_admin_owner_gets_a_wildcard_certificate_of_their_own(infra: Infra) -> None:
    await ready(infra, "mine", admin=True)
    await ready(infra, "yours")

    assert sorted(name for name, _, _ in infra.certificates.orders) == [
        ADMIN_WILDCARD,
        USER_WILDCARD,
    ]


async def test_a_certificate_is_renewed_at_two_thirds_of_its_lifetime_once(
    infra: Infra, world: World
) -> None:
    client_id = await ready(infra)
    infra.certificates.issue_at_once = False

    def renewals() -> list[RenewCertificate]:
        return [job for job in world.uow.outbox.committed if isinstance(job, RenewCertificate)]

    world.clock.advance(timedelta(days=59).total_seconds())
    await infra.run(SweepProvisioning())
    assert renewals() == []

    world.clock.advance(timedelta(days=1, seconds=1).total_seconds())
    await infra.run(SweepProvisioning())
    assert renewals() == [RenewCertificate(name=USER_WILDCARD)]
    first = await infra.run(RenewCertificate(name=USER_WILDCARD))
    second = await infra.run(RenewCertificate(name=USER_WILDCARD))
    assert first is not None and second is not None
    assert [renew for _, _, renew in infra.certificates.orders] == [False, True]

    infra.certificates.issue(USER_WILDCARD)
    assert await infra.run(RenewCertificate(name=USER_WILDCARD)) is None
    stored = world.uow.provisioning.certificates[USER_WILDCARD]
    assert not stored.renewing and stored.not_after == world.clock.now() + timedelta(days=90)
    assert infra.client(client_id).is_provisioned  # served all along by the old certificate


# -- teardown ----------------------------------------------------------------------------------


async def test_undeploy_tears_everything_down_and_resets_the_statuses(
    infra: Infra, world: World
) -> None:
    client_id = await ready(infra)

    await UndeployLLMClient(world.uow, world.clock)(world.user, client_id)
    assert await infra.reconcile(client_id) == [None]

    client = infra.client(client_id)
    assert client.dns_verification_status is Dns.NOT_VERIFIED
    assert client.tls_certificate_issuance_status is Tls.NO_CERTIFICATE
    assert infra.records() == {}
    assert infra.cluster.ingresses == {} and infra.certificates.certificates == {}
    assert world.uow.provisioning.hosts == {} and world.uow.provisioning.certificates == {}
    assert infra.events(client_id)[-3:] == [
        ("deployed", "true", "false"),
        ("dns_verification_status", "Verified", "Not Verified"),
        ("tls_certificate_issuance_status", "Issued", "No Certificate"),
    ]


async def test_deleting_a_deployed_client_tears_it_down_and_then_removes_the_row(
    infra: Infra, world: World
) -> None:
    client_id = await ready(infra)

    await DeleteLLMClient(world.uow, world.clock)(world.user, client_id)
    assert client_id in world.uow.clients.rows
    await infra.run_queued()

    assert client_id not in world.uow.clients.rows
    assert infra.records() == {} and infra.cluster.ingresses == {}
    assert infra.certificates.certificates == {}


async def test_renaming_a_deployed_client_removes_the_old_hosts_artifacts(
    infra: Infra, world: World
) -> None:
    client_id = await ready(infra)

    await UpdateLLMClient(world.uow, world.clock)(world.user, client_id, {"name": "renamed"})
    assert (await infra.run_queued())[-1][1] is None
    # The old record's DELETE and the new one's UPSERT went out in one batch.
    assert [[c.action for c in batch] for batch in infra.zones.batches] == [
        ["UPSERT"],
        ["DELETE", "UPSERT"],
    ]

    new_host = HOST.replace("example.", "renamed.", 1)
    assert infra.records() == {new_host: ("CNAME", (TARGET,))}
    assert [i.host for i in infra.cluster.ingresses.values()] == [new_host]
    assert len(infra.certificates.orders) == 1  # the wildcard covers the new name too
    assert infra.client(client_id).is_provisioned


async def test_deploy_undeploy_deploy_in_a_row_ends_as_last_asked(
    infra: Infra, world: World
) -> None:
    client_id = await deployed(infra)
    await UndeployLLMClient(world.uow, world.clock)(world.user, client_id)
    await DeployLLMClient(world.uow, world.clock)(world.user, client_id)
    await infra.run_queued()

    assert infra.client(client_id).is_provisioned
    assert len(infra.records()) == len(infra.cluster.ingresses) == 1


# -- idempotency and crashes -------------------------------------------------------------------


async def test_running_a_finished_job_again_calls_no_provider_writes(infra: Infra) -> None:
    client_id = await ready(infra)
    before = list(infra.calls.log)

    assert await infra.run(ReconcileClient(client_id=client_id)) is None

    writes = [c for c in infra.calls.log[len(before) :] if c.endswith(("upsert", "request"))]
    assert writes == [] and "cluster.apply_ingress" not in infra.calls.log[len(before) :]
    assert infra.client(client_id).is_provisioned


@pytest.mark.parametrize("crash_at", range(1, 12))
async def test_a_crash_at_any_step_then_a_rerun_converges_without_duplicates(
    infra: Infra, crash_at: int
) -> None:
    client_id = await deployed(infra)
    infra.calls.crash_at = crash_at

    with contextlib.suppress(Crash):
        await infra.reconcile(client_id)
    infra.calls.crash_at = None
    # The rerun: the outbox and the sweep bring back whatever the crash interrupted. A
    # crash between claiming a certificate order and placing it waits out the claim.
    await infra.run_queued(ReconcileClient(client_id=client_id), SweepProvisioning())

    assert infra.client(client_id).is_provisioned
    assert len(infra.records()) == 1
    assert len(infra.certificates.orders) == 1 and len(infra.certificates.certificates) == 1
    assert infra.world.clock.now() <= START + timedelta(
        seconds=POLICY.certificate_claim_seconds * 2
    )
    assert len(infra.cluster.ingresses) == 1


async def test_a_provider_error_is_retried_with_growing_delays(infra: Infra) -> None:
    client_id = await deployed(infra)
    infra.calls.fail_next("zones.apply", times=3)

    runs = await infra.run_queued(ReconcileClient(client_id=client_id))

    flushes = [answer for job, answer in runs if isinstance(job, FlushDnsChanges)]
    assert flushes[:4] == [POLICY.dns_batch_window_seconds, 5, 10, 20]
    assert infra.client(client_id).is_provisioned


# -- the sweep ---------------------------------------------------------------------------------


async def test_the_sweep_queues_what_lags_its_desired_state(infra: Infra, world: World) -> None:
    done = await ready(infra, "done", admin=True)
    waiting = await deployed(infra, "waiting", admin=True)
    undeployed = await ready(infra, "undeployed")
    await UndeployLLMClient(world.uow, world.clock)(world.user, undeployed)
    never = await world.create_client(world.colleague, "never")
    domain_id = await world.register_domain(world.admin)
    world.uow.provisioning.certificates["orphan"] = ManagedCertificate(
        name="orphan", hosts=("x",), phase=CertificatePhase.READY, requested_at=world.clock.now()
    )
    world.uow.outbox.committed.clear()

    assert await infra.run(SweepProvisioning()) is None

    queued = world.uow.outbox.committed
    assert ReconcileClient(client_id=waiting) in queued
    assert ReconcileClient(client_id=undeployed) in queued
    assert ReconcileClient(client_id=done) not in queued
    assert ReconcileClient(client_id=never) not in queued
    assert VerifyCustomDomain(domain_id=domain_id) in queued
    assert ReleaseCertificate(name="orphan") in queued


async def test_a_change_of_mind_during_a_run_is_reconciled_by_the_run_it_queued(
    infra: Infra, world: World
) -> None:
    client_id = await deployed(infra)

    def undeploy_meanwhile() -> None:  # what the undeploy use case stores and queues
        world.uow.clients.rows[client_id].deployed = False
        world.uow.outbox.committed.append(ReconcileClient(client_id=client_id))

    infra.calls.hooks["certificates.request"] = undeploy_meanwhile

    await infra.reconcile(client_id)

    assert infra.records() == {} and infra.cluster.ingresses == {}
    assert infra.client(client_id).dns_verification_status is Dns.NOT_VERIFIED
