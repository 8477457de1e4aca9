"""Custom domains: pending registrations per account, a verified domain platform-wide."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from smarter.adapters.sql.accounts import account_id_of
from smarter.adapters.sql.integrity import guarded_write
from smarter.adapters.sql.repositories import (
    CustomDomainRows,
    LLMClientRows,
    of_account,
    translates_errors,
)
from smarter.adapters.sql.rows import CustomDomainRow, LLMClientRow, utc_now
from smarter.adapters.sql.touched import note_account
from smarter.adapters.sql.webhooks import publish
from smarter.domain.account_number import AccountNumber
from smarter.domain.custom_domain import CustomDomain, VerificationReport
from smarter.domain.errors import Conflict, NotFound
from smarter.domain.webhook_events import domain_events


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
        failures=row.failures,
    )


def _report(domain: CustomDomain) -> dict[str, Any] | None:
    report = domain.last_verification
    return None if report is None else msgspec.to_builtins(report)


@translates_errors
class SqlCustomDomains:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._rows = CustomDomainRows(session)
        self._clients = LLMClientRows(session)

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
            await self._rows.add(row)
        domain.id = row.id
        note_account(self._session, domain.account_number)
        return domain

    async def get(self, account: AccountNumber, domain_id: int) -> CustomDomain:
        row = await self._rows.get_one(
            CustomDomainRow.id == domain_id,
            of_account(CustomDomainRow.account_id, account),
            error_messages={"not_found": f"no custom domain {domain_id}"},
        )
        return domain_of(row, account)

    async def list(self, account: AccountNumber) -> list[CustomDomain]:
        rows = await self._rows.get_many(
            of_account(CustomDomainRow.account_id, account), order_by=CustomDomainRow.id.asc()
        )
        return [domain_of(row, account) for row in rows]

    async def save(self, domain: CustomDomain) -> CustomDomain:
        """Store the changes; Conflict when it becomes verified after another account's did."""
        if domain.id is None:
            raise NotFound("the custom domain was never stored")
        report = domain.last_verification
        changes = CustomDomainRow(
            id=domain.id,
            aws_hosted_zone_id=domain.aws_hosted_zone_id,
            name_servers=list(domain.name_servers),
            is_verified=domain.is_verified,
            last_verification=_report(domain),
            failures=domain.failures,
            checked_at=None if report is None else report.checked_at,
        )
        was_verified = await self._session.scalar(
            select(CustomDomainRow.is_verified).where(CustomDomainRow.id == domain.id)
        )
        taken = f"{domain.domain_name} is verified by another account"
        async with guarded_write(self._session, taken):
            await self._rows.update(
                changes, error_messages={"not_found": f"no custom domain {domain.id}"}
            )
        note_account(self._session, domain.account_number)
        events = domain_events(bool(was_verified), domain, utc_now())
        await publish(self._session, domain.account_number, events)
        return domain

    async def delete(self, domain: CustomDomain) -> None:
        """Delete the registration and its records; clients using it lose their custom host."""
        if domain.id is None:
            raise NotFound("the custom domain was never stored")
        await self._rows.delete(
            domain.id, error_messages={"not_found": f"no custom domain {domain.id}"}
        )
        note_account(self._session, domain.account_number)

    async def is_attached(self, domain_id: int) -> bool:
        return await self._clients.exists(LLMClientRow.custom_domain_id == domain_id)

    async def find_verified(self, domain_name: str) -> CustomDomain | None:
        """The verified registration of `domain_name`, whichever account holds it, or None."""
        row = await self._rows.get_one_or_none(
            CustomDomainRow.domain_name == domain_name.lower().rstrip("."),
            CustomDomainRow.is_verified == true(),
            load=[joinedload(CustomDomainRow.account)],
        )
        return None if row is None else domain_of(row, row.account.account_number)
