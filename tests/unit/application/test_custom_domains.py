"""Custom domains: admins register, verify and delete them; anyone in the account reads them."""

from __future__ import annotations

import pytest

from smarter.application.custom_domains import (
    DeleteCustomDomain,
    GetCustomDomain,
    ListCustomDomains,
    RegisterCustomDomain,
    RequestDomainVerification,
)
from smarter.application.errors import PermissionDenied
from smarter.application.jobs import VerifyCustomDomain
from smarter.application.llm_clients import AttachCustomDomain
from smarter.domain.errors import Conflict, InvalidValue, NotFound
from tests.unit.application.conftest import ACCOUNT, OTHER_ACCOUNT, World


async def test_registering_a_domain_stores_it_unverified_and_enqueues_its_verification(
    world: World,
) -> None:
    domain = await RegisterCustomDomain(world.uow, world.platform)(
        world.admin, "Bots.Customer.COM."
    )

    assert domain.id is not None
    stored = world.stored_domain(domain.id)
    assert stored.domain_name == "bots.customer.com"
    assert stored.account_number == ACCOUNT
    assert not stored.is_verified
    assert world.uow.outbox.committed == [VerifyCustomDomain(domain_id=domain.id)]
    assert world.uow.commits == 1


@pytest.mark.parametrize(
    "name",
    [
        "llm_client.example.com",
        "localhost",
        "-bad.customer.com",
        "a..customer.com",
        "",
        "customer.com/path",
        "x" * 64 + ".com",
    ],
)
async def test_an_invalid_domain_name_is_rejected_naming_the_field(world: World, name: str) -> None:
    with pytest.raises(InvalidValue) as error:
        await RegisterCustomDomain(world.uow, world.platform)(world.admin, name)

    assert error.value.field == "domain_name"
    assert world.uow.domains.rows == {}
    assert world.uow.outbox.committed == world.uow.outbox.pending == []


@pytest.mark.parametrize("name", ["example.com", "bots.example.com", "alpha.api.example.com"])
async def test_the_platforms_own_domain_cannot_be_registered(world: World, name: str) -> None:
    with pytest.raises(InvalidValue) as error:
        await RegisterCustomDomain(world.uow, world.platform)(world.admin, name)

    assert error.value.field == "domain_name"
    assert world.uow.domains.rows == {}


async def test_a_domain_the_account_registered_already_is_a_conflict(world: World) -> None:
    await world.register_domain(world.admin, "customer.com")
    world.uow.outbox.committed.clear()

    with pytest.raises(Conflict):
        await world.register_domain(world.admin, "customer.com")
    assert len(world.uow.domains.rows) == 1
    assert world.uow.outbox.committed == world.uow.outbox.pending == []


async def test_a_pending_registration_does_not_block_another_account(world: World) -> None:
    mine = await world.register_domain(world.admin, "customer.com")

    theirs = await world.register_domain(world.stranger, "customer.com")

    assert mine != theirs
    assert world.stored_domain(theirs).account_number == OTHER_ACCOUNT


async def test_a_domain_verified_by_another_account_cannot_be_registered(world: World) -> None:
    theirs = await world.register_domain(world.stranger, "customer.com")
    world.verify_domain(theirs)

    with pytest.raises(Conflict):
        await world.register_domain(world.admin, "customer.com")


@pytest.mark.parametrize("who", ["user", "colleague"])
async def test_a_non_admin_cannot_register_verify_or_delete_a_domain(
    world: World, who: str
) -> None:
    principal = getattr(world, who)
    domain_id = await world.register_domain(world.admin)
    world.uow.outbox.committed.clear()

    with pytest.raises(PermissionDenied):
        await RegisterCustomDomain(world.uow, world.platform)(principal, "other.customer.com")
    with pytest.raises(PermissionDenied):
        await RequestDomainVerification(world.uow)(principal, domain_id)
    with pytest.raises(PermissionDenied):
        await DeleteCustomDomain(world.uow)(principal, domain_id)
    assert list(world.uow.domains.rows) == [domain_id]
    assert world.uow.outbox.committed == world.uow.outbox.pending == []


async def test_anyone_in_the_account_lists_and_reads_its_domains(world: World) -> None:
    first = await world.register_domain(world.admin, "customer.com")
    second = await world.register_domain(world.admin, "bots.customer.org")
    await world.register_domain(world.stranger, "elsewhere.net")

    listed = await ListCustomDomains(world.uow)(world.user)
    read = await GetCustomDomain(world.uow)(world.user, second)

    assert [d.id for d in listed] == [first, second]
    assert read.domain_name == "bots.customer.org"


async def test_another_accounts_domain_is_not_found(world: World) -> None:
    theirs = await world.register_domain(world.stranger, "elsewhere.net")
    world.uow.outbox.committed.clear()

    with pytest.raises(NotFound):
        await GetCustomDomain(world.uow)(world.admin, theirs)
    with pytest.raises(NotFound):
        await RequestDomainVerification(world.uow)(world.admin, theirs)
    with pytest.raises(NotFound):
        await DeleteCustomDomain(world.uow)(world.admin, theirs)
    assert theirs in world.uow.domains.rows
    assert world.uow.outbox.committed == world.uow.outbox.pending == []


async def test_an_admin_asks_for_a_domain_to_be_verified_again(world: World) -> None:
    domain_id = await world.register_domain(world.admin)
    world.uow.outbox.committed.clear()

    domain = await RequestDomainVerification(world.uow)(world.admin, domain_id)

    assert domain.id == domain_id
    assert world.uow.outbox.committed == [VerifyCustomDomain(domain_id=domain_id)]


async def test_an_admin_deletes_a_detached_domain(world: World) -> None:
    domain_id = await world.register_domain(world.admin)
    commits = world.uow.commits

    await DeleteCustomDomain(world.uow)(world.admin, domain_id)

    assert world.uow.domains.rows == {}
    assert world.uow.commits == commits + 1


async def test_a_domain_attached_to_a_client_cannot_be_deleted(world: World) -> None:
    domain_id = await world.register_domain(world.admin)
    client_id = await world.create_client(world.user)
    attach = AttachCustomDomain(world.uow, world.clock)
    await attach(world.user, client_id, domain_id)

    with pytest.raises(Conflict, match=r"bots\.customer\.com"):
        await DeleteCustomDomain(world.uow)(world.admin, domain_id)
    assert domain_id in world.uow.domains.rows

    await attach(world.user, client_id, None)
    await DeleteCustomDomain(world.uow)(world.admin, domain_id)
    assert world.uow.domains.rows == {}
