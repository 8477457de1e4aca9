"""Custom domains on fakes: zone and marker, verification through DNS, first to verify wins,
custom hosts next to the default host, deletion of the zone."""

from __future__ import annotations

from smarter.application.custom_domains import DeleteCustomDomain
from smarter.application.jobs import DeleteDomainZone, ReconcileClient, VerifyCustomDomain
from smarter.application.llm_clients import AttachCustomDomain
from smarter.domain.custom_domain import CustomDomain
from tests.unit.application.conftest import World
from tests.unit.application.provisioning_world import (  # noqa: F401 - the fixture
    POLICY,
    TARGET,
    Infra,
    infra_fixture,
)

DOMAIN = "bots.customer.com"


async def registered(infra: Infra, owner: str = "admin") -> CustomDomain:
    """Registered, with its zone and marker made by the job (not delegated yet)."""
    world = infra.world
    domain_id = await world.register_domain(getattr(world, owner), DOMAIN)
    job = world.uow.outbox.committed.pop()
    assert job == VerifyCustomDomain(domain_id=domain_id)
    assert await infra.run(job) is not None
    return world.stored_domain(domain_id)


def delegate(infra: Infra, domain: CustomDomain) -> None:
    """What the customer does at their registrar: NS records pointing at the domain's zone."""
    assert domain.aws_hosted_zone_id is not None
    infra.resolver.delegations[domain.domain_name] = domain.aws_hosted_zone_id


async def test_registering_creates_a_zone_with_the_marker_and_shows_its_name_servers(
    infra: Infra,
) -> None:
    domain = await registered(infra)

    zone = infra.zones.zones[domain.aws_hosted_zone_id or ""]
    assert zone.name == DOMAIN
    assert domain.name_servers == zone.name_servers and len(zone.name_servers) == 4
    marker = infra.zones.record_sets[zone.id][(f"_smarter.{DOMAIN}", "TXT")]
    assert marker.values == (f"smarter-verification=3141-5926-5359-{domain.id}",)
    assert not domain.is_verified


async def test_an_undelegated_domain_is_retried_and_reports_what_was_found(
    infra: Infra, world: World
) -> None:
    domain = await registered(infra)
    world.clock.advance(60)

    delay = await infra.run(VerifyCustomDomain(domain_id=domain.id or 0))

    assert delay == 60
    report = world.stored_domain(domain.id or 0).last_verification
    assert report is not None and report.name_servers_found == ()
    assert "NS records" in report.message and "missing" in report.message
    assert domain.name_servers[0] in report.message


async def test_a_delegated_domain_is_verified_and_its_clients_reconciled(
    infra: Infra, world: World
) -> None:
    domain = await registered(infra)
    client_id = await world.deployed_client(world.admin)
    await AttachCustomDomain(world.uow, world.clock)(world.admin, client_id, domain.id)
    world.uow.outbox.committed.clear()
    delegate(infra, domain)

    assert await infra.run(VerifyCustomDomain(domain_id=domain.id or 0)) is None

    stored = world.stored_domain(domain.id or 0)
    assert stored.is_verified
    assert stored.last_verification is not None
    assert set(stored.last_verification.name_servers_found) == set(domain.name_servers)
    assert world.uow.outbox.committed == [ReconcileClient(client_id=client_id)]


async def test_the_right_name_servers_without_this_registrations_marker_do_not_verify(
    infra: Infra, world: World
) -> None:
    domain = await registered(infra)
    delegate(infra, domain)
    del infra.zones.record_sets[domain.aws_hosted_zone_id or ""][(f"_smarter.{DOMAIN}", "TXT")]

    assert await infra.run(VerifyCustomDomain(domain_id=domain.id or 0)) is not None

    stored = world.stored_domain(domain.id or 0)
    assert not stored.is_verified
    assert stored.last_verification is not None
    assert "marker" in stored.last_verification.message


async def test_verification_gives_up_after_its_window_still_reporting(
    infra: Infra, world: World
) -> None:
    domain = await registered(infra)
    world.clock.advance(POLICY.domain_verification_window_seconds)

    assert await infra.run(VerifyCustomDomain(domain_id=domain.id or 0)) is None
    report = world.stored_domain(domain.id or 0).last_verification
    assert report is not None and report.checked_at == world.clock.now()


async def test_the_first_registration_to_verify_wins_and_the_others_are_released(
    infra: Infra, world: World
) -> None:
    mine = await registered(infra, "admin")
    theirs = await registered(infra, "stranger")
    assert mine.aws_hosted_zone_id != theirs.aws_hosted_zone_id
    delegate(infra, theirs)

    assert await infra.run(VerifyCustomDomain(domain_id=mine.id or 0)) is not None
    assert await infra.run(VerifyCustomDomain(domain_id=theirs.id or 0)) is None

    assert world.stored_domain(theirs.id or 0).is_verified
    assert mine.id not in world.uow.domains.rows
    assert world.uow.outbox.committed == [DeleteDomainZone(zone_id=mine.aws_hosted_zone_id or "")]
    await infra.run_queued()
    assert set(infra.zones.zones) == {theirs.aws_hosted_zone_id}


async def test_deleting_a_domain_deletes_its_zone_with_the_marker(
    infra: Infra, world: World
) -> None:
    domain = await registered(infra)

    await DeleteCustomDomain(world.uow)(world.admin, domain.id or 0)
    await infra.run_queued()

    assert infra.zones.zones == {}


async def test_a_client_on_a_verified_domain_gets_its_custom_host_next_to_the_default_one(
    infra: Infra, world: World
) -> None:
    domain = await registered(infra)
    delegate(infra, domain)
    await infra.run(VerifyCustomDomain(domain_id=domain.id or 0))
    client_id = await world.deployed_client(world.admin)
    await AttachCustomDomain(world.uow, world.clock)(world.admin, client_id, domain.id)

    await infra.run_queued()

    custom = f"example.{DOMAIN}"
    default = "example.3141-5926-5359.alpha.api.example.com"
    assert infra.records() == {
        f"_smarter.{DOMAIN}": ("TXT", (f"smarter-verification=3141-5926-5359-{domain.id}",)),
        custom: ("CNAME", (TARGET,)),
        default: ("CNAME", (TARGET,)),
    }
    zone_of = {
        name: zone_id for zone_id, sets in infra.zones.record_sets.items() for name, _ in sets
    }
    assert zone_of[custom] == domain.aws_hosted_zone_id
    assert sorted(name for name, _, _ in infra.certificates.orders) == [
        "host-example-bots-customer-com",
        "wildcard-3141-5926-5359",
    ]
    assert sorted(i.host for i in infra.cluster.ingresses.values()) == sorted([custom, default])
    assert world.stored(client_id).is_provisioned

    await AttachCustomDomain(world.uow, world.clock)(world.admin, client_id, None)
    await infra.run_queued()
    assert custom not in infra.records() and default in infra.records()
    assert [i.host for i in infra.cluster.ingresses.values()] == [default]
    assert "host-example-bots-customer-com" not in infra.certificates.certificates


async def test_attaching_a_domain_to_a_serving_client_keeps_it_serving_meanwhile(
    infra: Infra, world: World
) -> None:
    domain = await registered(infra)
    delegate(infra, domain)
    await infra.run(VerifyCustomDomain(domain_id=domain.id or 0))
    client_id = await world.deployed_client(world.admin)
    await infra.run_queued()
    infra.certificates.issue_at_once = False

    await AttachCustomDomain(world.uow, world.clock)(world.admin, client_id, domain.id)
    answers = await infra.reconcile(client_id, for_seconds=600)

    assert answers[-1] is not None  # the custom host's certificate is pending
    assert world.stored(client_id).is_provisioned
    infra.certificates.issue("host-example-bots-customer-com")
    assert await infra.run(ReconcileClient(client_id=client_id)) is None
    assert len(infra.cluster.ingresses) == 2


async def test_a_registration_deleted_while_its_zone_is_made_leaves_no_zone(
    infra: Infra, world: World
) -> None:
    domain_id = await world.register_domain(world.admin, DOMAIN)

    def delete_meanwhile() -> None:
        del world.uow.domains.rows[domain_id]

    infra.calls.hooks["zones.upsert"] = delete_meanwhile

    assert await infra.run(VerifyCustomDomain(domain_id=domain_id)) is None

    assert infra.zones.zones == {}
