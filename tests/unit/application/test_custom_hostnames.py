"""Custom hostnames on fakes: registering one for a client, checking the customer's records,
serving the client on it once verified, and unverifying it after failed checks in a row."""

from __future__ import annotations

import pytest

from smarter.application.custom_hostnames import (
    DeleteCustomHostname,
    HostnameSetup,
    ListCustomHostnames,
    RegisterCustomHostname,
)
from smarter.application.errors import PermissionDenied
from smarter.application.jobs import ReconcileClient, SweepProvisioning, VerifyCustomHostname
from smarter.domain.custom_hostname import CustomHostname
from smarter.domain.errors import Conflict, InvalidValue, NotFound
from smarter.domain.provisioning import HostRole, host_certificate_name, ingress_name
from tests.unit.application.conftest import World
from tests.unit.application.provisioning_world import (  # noqa: F401 - the fixture
    POLICY,
    Infra,
    infra_fixture,
)

NAME = "chat.customer.com"


def register(world: World) -> RegisterCustomHostname:
    return RegisterCustomHostname(world.uow, world.platform, POLICY)


async def registered(infra: Infra, name: str = NAME) -> CustomHostname:
    world = infra.world
    client_id = await world.deployed_client(world.admin)
    await infra.reconcile(client_id)
    hostname = await register(world)(world.admin, name, client_id)
    world.uow.outbox.committed.clear()
    return hostname


def set_records(infra: Infra, hostname: CustomHostname, *, skip: str = "") -> None:
    """What the customer does at their DNS provider."""
    for record in HostnameSetup.of(POLICY).records_of(hostname):
        if record.type != skip:
            infra.resolver.elsewhere[(record.name, record.type)] = record.values


async def test_registering_asks_for_a_check_and_shows_the_records_to_set(infra: Infra) -> None:
    world = infra.world
    client_id = await world.create_client(world.admin)

    hostname = await register(world)(world.admin, "Chat.Customer.com", client_id)

    assert world.uow.outbox.committed == [VerifyCustomHostname(hostname_id=hostname.id or 0)]
    records = HostnameSetup.of(POLICY).records_of(hostname)
    assert [(r.name, r.type) for r in records] == [
        (NAME, "CNAME"),
        (f"_smarter.{NAME}", "TXT"),
        (f"_acme-challenge.{NAME}", "CNAME"),
    ]
    assert records[0].values == (f"custom.{POLICY.platform_zone}",)


async def test_a_hostname_goes_only_to_a_client_of_the_account(infra: Infra) -> None:
    world = infra.world
    theirs = await world.create_client(world.stranger, "theirs")
    with pytest.raises(NotFound):
        await register(world)(world.admin, NAME, theirs)


async def test_a_user_may_not_attach_a_hostname_to_a_colleagues_client(infra: Infra) -> None:
    world = infra.world
    colleagues = await world.create_client(world.colleague, "colleagues")
    with pytest.raises((NotFound, PermissionDenied)):
        await register(world)(world.user, NAME, colleagues)


async def test_the_platforms_own_names_and_apex_names_without_addresses_are_refused(
    infra: Infra,
) -> None:
    world = infra.world
    client_id = await world.create_client(world.admin)
    with pytest.raises(InvalidValue, match="platform's own"):
        await register(world)(world.admin, f"chat.{world.platform.root_domain}", client_id)
    with pytest.raises(InvalidValue, match="apex"):
        await register(world)(world.admin, "customer.com", client_id)


async def test_one_account_registers_a_hostname_once(infra: Infra) -> None:
    world = infra.world
    client_id = await world.create_client(world.admin)
    await register(world)(world.admin, NAME, client_id)
    with pytest.raises(Conflict):
        await register(world)(world.admin, NAME, client_id)


async def test_records_not_set_yet_keep_the_hostname_pending_and_say_what_is_missing(
    infra: Infra,
) -> None:
    hostname = await registered(infra)
    set_records(infra, hostname, skip="TXT")

    delay = await infra.run(VerifyCustomHostname(hostname_id=hostname.id or 0))

    stored = infra.world.uow.hostnames.rows[hostname.id or 0]
    assert delay is not None and not stored.is_verified
    assert stored.last_check is not None
    assert f"_smarter.{NAME} TXT should be smarter-verification=" in stored.last_check.message
    assert infra.world.uow.outbox.committed == []


async def test_a_verified_hostname_serves_its_client_with_a_certificate_and_an_ingress(
    infra: Infra,
) -> None:
    hostname = await registered(infra)
    set_records(infra, hostname)

    runs = await infra.run_queued(VerifyCustomHostname(hostname_id=hostname.id or 0))

    client_id = hostname.client_id
    assert ReconcileClient(client_id=client_id) in [job for job, _ in runs]
    host = infra.world.uow.provisioning.hosts[NAME]
    assert host.role is HostRole.HOSTNAME and host.target == f"custom.{POLICY.platform_zone}"
    assert NAME not in infra.records()  # the customer's record: the platform writes none
    assert infra.cluster.ingresses[ingress_name(NAME)].tls_secret == host_certificate_name(NAME)
    assert (host_certificate_name(NAME), (NAME,), False) in infra.certificates.orders
    assert infra.client(client_id).is_provisioned
    assert ("custom_host", "unverified", "verified") in infra.events(client_id)
    # The name the customer's CNAME points at leads to the ingress.
    assert infra.records()[f"custom.{POLICY.platform_zone}"] == ("CNAME", (POLICY.target,))


async def test_failed_checks_in_a_row_unverify_the_hostname_and_the_default_host_keeps_serving(
    infra: Infra,
) -> None:
    hostname = await registered(infra)
    set_records(infra, hostname)
    await infra.run_queued(VerifyCustomHostname(hostname_id=hostname.id or 0))
    infra.resolver.elsewhere.clear()  # the customer's DNS lost the records

    for _ in range(POLICY.reverify_failures):
        infra.world.clock.advance(POLICY.reverify_seconds + 1)
        await infra.run_queued(SweepProvisioning(), for_seconds=60)

    client_id = hostname.client_id
    assert not infra.world.uow.hostnames.rows[hostname.id or 0].is_verified
    assert NAME not in infra.world.uow.provisioning.hosts
    assert ingress_name(NAME) not in infra.cluster.ingresses
    assert infra.client(client_id).is_provisioned  # its default host
    event = infra.world.uow.clients.events_by_client[client_id][-1]
    assert (event.field, event.to_status) == ("custom_host", "unverified")
    assert "failed checks" in event.reason and "found: nothing" in event.reason


async def test_deleting_a_hostname_takes_its_host_down(infra: Infra) -> None:
    hostname = await registered(infra)
    set_records(infra, hostname)
    await infra.run_queued(VerifyCustomHostname(hostname_id=hostname.id or 0))

    await DeleteCustomHostname(infra.world.uow)(infra.world.admin, hostname.id or 0)
    await infra.run_queued()

    assert NAME not in infra.world.uow.provisioning.hosts
    assert await ListCustomHostnames(infra.world.uow)(infra.world.admin) == []
