"""Custom hostnames: pending registrations per account, a verified hostname platform-wide."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import delete, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from smarter.adapters.sql.accounts import account_id_of
from smarter.adapters.sql.integrity import guarded_write
from smarter.adapters.sql.rows import AccountRow, CustomHostnameRow, LLMClientRow
from smarter.adapters.sql.touched import note_account
from smarter.domain.account_number import AccountNumber
from smarter.domain.custom_hostname import CustomHostname, HostnameCheck
from smarter.domain.errors import Conflict, NotFound


def _hostname(row: CustomHostnameRow, account_number: str) -> CustomHostname:
    check = row.last_check
    return CustomHostname(
        hostname=row.hostname,
        account_number=AccountNumber(account_number),
        client_id=row.llm_client_id,
        token=row.token,
        id=row.id,
        is_verified=row.is_verified,
        verified_at=row.verified_at,
        last_check=None if check is None else msgspec.convert(check, HostnameCheck),
        failures=row.failures,
        created_at=row.created_at,
    )


def _check(hostname: CustomHostname) -> dict[str, Any] | None:
    check = hostname.last_check
    return None if check is None else msgspec.to_builtins(check)


class SqlCustomHostnames:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, hostname: CustomHostname) -> CustomHostname:
        taken = f"{hostname.hostname} is already registered"
        if await self.find_verified(hostname.hostname) is not None:
            raise Conflict(taken)
        account_id = await account_id_of(self._session, hostname.account_number)
        client_account = await self._session.scalar(
            select(LLMClientRow.account_id).where(LLMClientRow.id == hostname.client_id)
        )
        if client_account != account_id:
            raise NotFound(f"no LLMClient {hostname.client_id}")
        row = CustomHostnameRow(
            account_id=account_id,
            llm_client_id=hostname.client_id,
            hostname=hostname.hostname,
            token=hostname.token,
            is_verified=hostname.is_verified,
            failures=hostname.failures,
        )
        async with guarded_write(self._session, taken):
            self._session.add(row)
        hostname.id, hostname.created_at = row.id, row.created_at
        note_account(self._session, hostname.account_number)
        return hostname

    async def get(self, account: AccountNumber, hostname_id: int) -> CustomHostname:
        row = await self._session.scalar(
            select(CustomHostnameRow)
            .join(AccountRow, AccountRow.id == CustomHostnameRow.account_id)
            .where(CustomHostnameRow.id == hostname_id, AccountRow.account_number == account)
            .execution_options(populate_existing=True)
        )
        if row is None:
            raise NotFound(f"no custom hostname {hostname_id}")
        return _hostname(row, account)

    async def save(self, hostname: CustomHostname) -> CustomHostname:
        """Store the changes; Conflict when it becomes verified after another account's did."""
        taken = f"{hostname.hostname} is verified by another account"
        async with guarded_write(self._session, taken):
            row = await self._session.get(CustomHostnameRow, hostname.id or 0)
            if row is None:
                raise NotFound(f"no custom hostname {hostname.id}")
            row.is_verified = hostname.is_verified
            row.verified_at = hostname.verified_at
            row.last_check = _check(hostname)
            row.checked_at = hostname.last_check.checked_at if hostname.last_check else None
            row.failures = hostname.failures
        note_account(self._session, hostname.account_number)
        return hostname

    async def delete(self, hostname: CustomHostname) -> None:
        result = await self._session.execute(
            delete(CustomHostnameRow).where(CustomHostnameRow.id == hostname.id)
        )
        if getattr(result, "rowcount", 0) == 0:
            raise NotFound(f"no custom hostname {hostname.id}")
        note_account(self._session, hostname.account_number)

    async def find(self, hostname_id: int) -> CustomHostname | None:
        found = (
            await self._session.execute(
                self._with_account()
                .where(CustomHostnameRow.id == hostname_id)
                .execution_options(populate_existing=True)
            )
        ).first()
        return None if found is None else _hostname(*found)

    async def find_verified(self, name: str) -> CustomHostname | None:
        found = (
            await self._session.execute(
                self._with_account().where(
                    CustomHostnameRow.hostname == name.lower().rstrip("."),
                    CustomHostnameRow.is_verified == true(),
                )
            )
        ).first()
        return None if found is None else _hostname(*found)

    async def of_client(self, client_id: int) -> list[CustomHostname]:
        rows = await self._session.execute(
            self._with_account()
            .where(CustomHostnameRow.llm_client_id == client_id)
            .order_by(CustomHostnameRow.id)
        )
        return [_hostname(row, number) for row, number in rows]

    async def due_for_check(self, checked_before: datetime, limit: int) -> list[int]:
        """Pending hostnames, and verified ones last checked before `checked_before`."""
        ids = await self._session.scalars(
            select(CustomHostnameRow.id)
            .where(
                or_(
                    CustomHostnameRow.is_verified == false(),
                    CustomHostnameRow.checked_at.is_(None),
                    CustomHostnameRow.checked_at < checked_before,
                )
            )
            .order_by(CustomHostnameRow.checked_at.nulls_first(), CustomHostnameRow.id)
            .limit(limit)
        )
        return list(ids)

    # Last: a method named `list` hides the builtin from the annotations after it.
    async def list(self, account: AccountNumber) -> list[CustomHostname]:
        rows = await self._session.scalars(
            select(CustomHostnameRow)
            .join(AccountRow, AccountRow.id == CustomHostnameRow.account_id)
            .where(AccountRow.account_number == account)
            .order_by(CustomHostnameRow.id)
        )
        return [_hostname(row, account) for row in rows]

    @staticmethod
    def _with_account() -> Any:
        return select(CustomHostnameRow, AccountRow.account_number).join(
            AccountRow, AccountRow.id == CustomHostnameRow.account_id
        )
