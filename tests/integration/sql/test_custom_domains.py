"""Custom domains against SQLite and PostgreSQL: pending registrations and verified ones."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from smarter.adapters.sql.unit_of_work import SqlUnitOfWork
from smarter.domain.account_number import AccountNumber
from smarter.domain.custom_domain import CustomDomain, VerificationReport
from smarter.domain.errors import Conflict, NotFound

from .factories import MOMENT, NUMBER, OTHER_NUMBER, an_account, an_account_with_admin

NewUoW = Callable[[], AbstractAsyncContextManager[SqlUnitOfWork]]
THIRD_NUMBER = AccountNumber("1414-2135-6237")


def pending(name: str = "customer.com", number: AccountNumber = NUMBER) -> CustomDomain:
    return CustomDomain(domain_name=name, account_number=number)


async def test_a_domain_reads_back_with_its_zone_and_last_verification(
    uow: SqlUnitOfWork, new_uow: NewUoW
) -> None:
    await an_account(uow)
    domain = await uow.domains.add(pending("Bots.Customer.COM."))
    domain.aws_hosted_zone_id = "Z0123456789ABCDEFGHIJ"
    domain.name_servers = ("ns-1.awsdns-01.org", "ns-2.awsdns-02.co.uk")
    domain.record_failed_check(
        VerificationReport(
            checked_at=MOMENT,
            name_servers_found=("ns1.registrar.example",),
            marker_found=(),
            message="the NS records do not point at the zone yet",
        )
    )
    await uow.domains.save(domain)
    await uow.commit()
    assert domain.id is not None

    async with new_uow() as other:
        loaded = await other.domains.get(NUMBER, domain.id)

    assert loaded == domain
    assert loaded.domain_name == "bots.customer.com" and not loaded.is_verified
    assert loaded.last_verification is not None
    assert loaded.last_verification.checked_at == MOMENT


async def test_a_domain_of_another_account_is_not_found(uow: SqlUnitOfWork) -> None:
    await an_account(uow)
    await an_account(uow, OTHER_NUMBER)
    domain = await uow.domains.add(pending())
    assert domain.id is not None

    with pytest.raises(NotFound):
        await uow.domains.get(OTHER_NUMBER, domain.id)
    assert await uow.domains.list(OTHER_NUMBER) == []
    assert [d.id for d in await uow.domains.list(NUMBER)] == [domain.id]


async def test_an_account_registers_a_domain_once(uow: SqlUnitOfWork) -> None:
    await an_account(uow)
    await uow.domains.add(pending())

    with pytest.raises(Conflict, match=r"customer\.com"):
        await uow.domains.add(pending("CUSTOMER.com"))


async def test_pending_registrations_of_one_domain_by_several_accounts_coexist(
    uow: SqlUnitOfWork,
) -> None:
    for number in (NUMBER, OTHER_NUMBER, THIRD_NUMBER):
        await an_account(uow, number)
        await uow.domains.add(pending(number=number))
    await uow.commit()

    for number in (NUMBER, OTHER_NUMBER, THIRD_NUMBER):
        assert [d.domain_name for d in await uow.domains.list(number)] == ["customer.com"]
    assert await uow.domains.find_verified("customer.com") is None


async def test_the_first_account_to_verify_a_domain_holds_it_across_the_platform(
    uow: SqlUnitOfWork, new_uow: NewUoW
) -> None:
    await an_account(uow)
    await an_account(uow, OTHER_NUMBER)
    mine = await uow.domains.add(pending())
    theirs = await uow.domains.add(pending(number=OTHER_NUMBER))
    await uow.commit()
    report = VerificationReport(checked_at=MOMENT, message="delegated")

    mine.mark_verified(report)
    await uow.domains.save(mine)
    theirs.mark_verified(report)
    with pytest.raises(Conflict, match="verified by another account"):
        await uow.domains.save(theirs)
    await uow.commit()

    async with new_uow() as other:
        found = await other.domains.find_verified("customer.com")
        assert found is not None and (found.id, found.account_number) == (mine.id, NUMBER)
        assert theirs.id is not None
        assert not (await other.domains.get(OTHER_NUMBER, theirs.id)).is_verified
        await an_account(other, THIRD_NUMBER)
        with pytest.raises(Conflict, match="already registered"):
            await other.domains.add(pending(number=THIRD_NUMBER))


async def test_a_deleted_domain_is_gone_and_no_longer_attached(uow: SqlUnitOfWork) -> None:
    await an_account_with_admin(uow)
    domain = await uow.domains.add(pending())
    assert domain.id is not None
    assert not await uow.domains.is_attached(domain.id)

    await uow.domains.delete(domain)

    with pytest.raises(NotFound):
        await uow.domains.get(NUMBER, domain.id)
    with pytest.raises(NotFound):
        await uow.domains.delete(domain)
