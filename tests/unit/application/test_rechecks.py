"""What the sweep keeps true on fakes: drift of a record or an Ingress put back with an event,
a verified domain that loses its delegation unverified after failed checks in a row and
verified again once it is back, and a Failed client tried again on a slow schedule."""

from __future__ import annotations

from smarter.application.jobs import ReconcileClient, SweepProvisioning, VerifyCustomDomain
from smarter.application.llm_clients import AttachCustomDomain
from smarter.domain.status import DnsVerificationStatus as Dns
from tests.unit.application.conftest import World
from tests.unit.application.provisioning_world import (  # noqa: F401 - the fixture
    POLICY,
    Infra,
    infra_fixture,
)
from tests.unit.application.test_custom_domain_provisioning import DOMAIN, delegate, registered
from tests.unit.application.test_provisioning import HOST, INGRESS, deployed

CUSTOM_HOST = f"example.{DOMAIN}"


async def sweep(infra: Infra, *, after: float = 61.0) -> None:
    infra.world.clock.advance(after)
    await infra.run_queued(SweepProvisioning(), for_seconds=30)


async def test_a_record_and_an_ingress_deleted_by_hand_come_back_with_an_event(
    infra: Infra,
) -> None:
    client_id = await deployed(infra)
    await infra.reconcile(client_id)
    zone_id = next(iter(infra.zones.zones))
    del infra.zones.record_sets[zone_id][(HOST, "CNAME")]
    del infra.cluster.ingresses[INGRESS]

    await sweep(infra)

    assert infra.records()[HOST] == ("CNAME", (POLICY.target,))
    assert INGRESS in infra.cluster.ingresses
    event = infra.world.uow.clients.events_by_client[client_id][-1]
    assert (event.field, event.from_status, event.to_status) == ("drift", "drifted", "repaired")
    assert f"record of {HOST} was missing" in event.reason and INGRESS in event.reason
    assert infra.client(client_id).is_provisioned


async def test_a_client_without_drift_is_checked_and_left_alone(infra: Infra) -> None:
    client_id = await deployed(infra)
    await infra.reconcile(client_id)
    events = len(infra.world.uow.clients.events_by_client[client_id])
    batches = len(infra.zones.batches)

    await sweep(infra)

    assert len(infra.world.uow.clients.events_by_client[client_id]) == events
    assert len(infra.zones.batches) == batches
    assert infra.calls.count("zones.record") == 1
    assert infra.world.uow.provisioning.hosts[HOST].checked_at == infra.world.clock.now()


async def test_a_domain_that_loses_its_delegation_is_unverified_and_comes_back_once_fixed(
    infra: Infra, world: World
) -> None:
    domain = await registered(infra)
    delegate(infra, domain)
    await infra.run(VerifyCustomDomain(domain_id=domain.id or 0))
    client_id = await world.deployed_client(world.admin)
    await AttachCustomDomain(world.uow, world.clock)(world.admin, client_id, domain.id)
    await infra.run_queued()
    assert CUSTOM_HOST in world.uow.provisioning.hosts

    del infra.resolver.delegations[DOMAIN]  # the customer's registrar lost the NS records
    for _ in range(POLICY.reverify_failures - 1):
        await sweep(infra, after=POLICY.reverify_seconds + 1)
        assert world.stored_domain(domain.id or 0).is_verified  # failures in a row, not yet
    await sweep(infra, after=POLICY.reverify_seconds + 1)

    assert not world.stored_domain(domain.id or 0).is_verified
    assert CUSTOM_HOST not in world.uow.provisioning.hosts
    assert infra.client(client_id).is_provisioned  # its default host keeps serving
    lost = world.uow.clients.events_by_client[client_id][-1]
    assert (lost.field, lost.to_status) == ("custom_host", "unverified")
    assert "NS records" in lost.reason

    delegate(infra, domain)
    await sweep(infra)

    assert world.stored_domain(domain.id or 0).is_verified
    assert CUSTOM_HOST in world.uow.provisioning.hosts
    back = [e for e in world.uow.clients.events_by_client[client_id] if e.field == "custom_host"]
    assert back[-1].to_status == "verified"


async def test_a_failed_client_is_tried_again_on_a_slow_schedule(infra: Infra) -> None:
    client_id = await deployed(infra)
    infra.resolver.answering = False
    await infra.reconcile(client_id)
    assert infra.client(client_id).dns_verification_status is Dns.FAILED
    infra.resolver.answering = True

    await sweep(infra)
    assert infra.client(client_id).dns_verification_status is Dns.FAILED  # not yet

    await sweep(infra, after=POLICY.failed_retry_seconds)
    assert infra.client(client_id).is_provisioned
    assert ReconcileClient(client_id=client_id) not in infra.world.uow.outbox.committed


async def test_a_certificate_deleted_behind_the_platforms_back_is_ordered_again(
    infra: Infra,
) -> None:
    client_id = await deployed(infra)
    await infra.reconcile(client_id)
    (name,) = list(infra.certificates.certificates)
    del infra.certificates.certificates[name]

    await sweep(infra)

    assert name in infra.certificates.certificates
    assert len(infra.certificates.orders) == 2
    event = infra.world.uow.clients.events_by_client[client_id][-1]
    assert f"certificate {name} was absent: ordered again" in event.reason
