"""Custom domains: pending registrations per account, a verified domain platform-wide."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import delete, exists, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from smarter.adapters.sql.accounts import account_id_of
from smarter.adapters.sql.integrity import guarded_write
from smarter.adapters.sql.rows import AccountRow, CustomDomainRow, LLMClientRow
from smarter.adapters.sql.touched import note_account
from smarter.domain.account_number import AccountNumber
from smarter.domain.custom_domain import CustomDomain, VerificationReport
from smarter.domain.errors import Conflict, NotFound


def domain_of(row: CustomDomainRow, account_number: str) -> CustomDomain:
    report = row.last_verification
    return CustomDomain(
        domain_name=row.domain_name,
        account_number=AccountNumber(account_number),
        id=row.id,
        aws_hosted_zone_id=row.aws_hosted_zone_id,
        name_servers=tuple(row.name_servers),
        is_verified=row.is_verified,
        last_verification=None if report is None else msgspec.convert(report, VerificationReport),
    )


def _report(domain: CustomDomain) -> dict[str, Any] | None:
    report = domain.last_verification
    return None if report is None else msgspec.to_builtins(report)


class SqlCustomDomains:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, domain: CustomDomain) -> CustomDomain:
        """Register; Conflict if this account has it already or another account verified it."""
        taken = f"{domain.domain_name} is already registered"
        if await self.find_verified(domain.domain_name) is not None:
            raise Conflict(taken)
        row = CustomDomainRow(
            account_id=await account_id_of(self._session, domain.account_number),
            domain_name=domain.domain_name,
            aws_hosted_zone_id=domain.aws_hosted_zone_id,
            name_servers=list(domain.name_servers),
            is_verified=domain.is_verified,
            last_verification=_report(domain),
        )
        async with guarded_write(self._session, taken):
            self._session.add(row)
        domain.id = row.id
        note_account(self._session, domain.account_number)
        return domain

    async def get(self, account: AccountNumber, domain_id: int) -> CustomDomain:
        row = await self._session.scalar(
            select(CustomDomainRow)
            .join(AccountRow, AccountRow.id == CustomDomainRow.account_id)
            .where(CustomDomainRow.id == domain_id, AccountRow.account_number == account)
        )
        if row is None:
            raise NotFound(f"no custom domain {domain_id}")
        return domain_of(row, account)

    async def list(self, account: AccountNumber) -> list[CustomDomain]:
        rows = await self._session.scalars(
            select(CustomDomainRow)
            .join(AccountRow, AccountRow.id == CustomDomainRow.account_id)
            .where(AccountRow.account_number == account)
            .order_by(CustomDomainRow.id)
        )
        return [domain_of(row, account) for row in rows]

    async def save(self, domain: CustomDomain) -> CustomDomain:
        """Store the changes; Conflict when it becomes verified after another account's did."""
        if domain.id is None:
            raise NotFound("the custom domain was never stored")
        taken = f"{domain.domain_name} is verified by another account"
        async with guarded_write(self._session, taken):
            row = await self._session.get(CustomDomainRow, domain.id)
            if row is None:
                raise NotFound(f"no custom domain {domain.id}")
            row.aws_hosted_zone_id = domain.aws_hosted_zone_id
            row.name_servers = list(domain.name_servers)
            row.is_verified = domain.is_verified
            row.last_verification = _report(domain)
        note_account(self._session, domain.account_number)
        return domain

    async def delete(self, domain: CustomDomain) -> None:
        """Delete the registration and its records; clients using it lose their custom host."""
        result = await self._session.execute(
            delete(CustomDomainRow).where(CustomDomainRow.id == domain.id)
        )
        if getattr(result, "rowcount", 0) == 0:
            raise NotFound(f"no custom domain {domain.id}")
        note_account(self._session, domain.account_number)

    async def is_attached(self, domain_id: int) -> bool:
        attached = await self._session.scalar(
            select(exists().where(LLMClientRow.custom_domain_id == domain_id))
        )
        return bool(attached)

    async def find_verified(self, domain_name: str) -> CustomDomain | None:
        """The verified registration of `domain_name`, whichever account holds it, or None."""
        found = (
            await self._session.execute(
                select(CustomDomainRow, AccountRow.account_number)
                .join(AccountRow, AccountRow.id == CustomDomainRow.account_id)
                .where(
                    CustomDomainRow.domain_name == domain_name.lower().rstrip("."),
                    CustomDomainRow.is_verified == true(),
                )
            )
        ).first()
        return None if found is None else domain_of(*found)
