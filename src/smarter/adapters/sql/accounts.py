"""Accounts, their users and the users' console tokens."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from smarter.adapters.sql.integrity import guarded_write
from smarter.adapters.sql.rows import AccountRow, AccountTokenRow, UserRow, utc_now
from smarter.adapters.sql.secret_rows import secret_columns, secret_fields
from smarter.domain.account_number import AccountNumber
from smarter.domain.accounts import Account, AccountToken, Principal, User
from smarter.domain.errors import NotFound
from smarter.domain.secrets import same_digest


async def account_id_of(session: AsyncSession, number: AccountNumber) -> int:
    """The row id of an account; NotFound when there is no such account."""
    found = await session.scalar(select(AccountRow.id).where(AccountRow.account_number == number))
    if found is None:
        raise NotFound(f"no account {number}")
    return found


class SqlAccounts:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, account: Account) -> Account:
        row = AccountRow(
            account_number=str(account.account_number),
            name=account.name,
            created_at=account.created_at or utc_now(),
        )
        async with guarded_write(self._session, f"account {account.account_number} exists"):
            self._session.add(row)
        account.id, account.created_at = row.id, row.created_at
        return account

    async def get(self, number: AccountNumber) -> Account:
        row = await self._session.scalar(
            select(AccountRow).where(AccountRow.account_number == number)
        )
        if row is None:
            raise NotFound(f"no account {number}")
        return Account(
            account_number=AccountNumber(row.account_number),
            name=row.name,
            id=row.id,
            created_at=row.created_at,
        )


def _user(row: UserRow, account_number: str) -> User:
    return User(
        account_number=AccountNumber(account_number),
        username=row.username,
        is_account_admin=row.is_account_admin,
        email=row.email,
        id=row.id,
        created_at=row.created_at,
    )


class SqlUsers:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, user: User) -> User:
        row = UserRow(
            account_id=await account_id_of(self._session, user.account_number),
            username=user.username,
            is_account_admin=user.is_account_admin,
            email=user.email,
            created_at=user.created_at or utc_now(),
        )
        async with guarded_write(self._session, f"user {user.username} exists in this account"):
            self._session.add(row)
        user.id, user.created_at = row.id, row.created_at
        return user

    async def get(self, account: AccountNumber, user_id: int) -> User:
        row = await self._session.scalar(
            select(UserRow)
            .join(AccountRow, AccountRow.id == UserRow.account_id)
            .where(UserRow.id == user_id, AccountRow.account_number == account)
        )
        if row is None:
            raise NotFound(f"no user {user_id}")
        return _user(row, account)

    async def list(self, account: AccountNumber) -> list[User]:
        rows = await self._session.scalars(
            select(UserRow)
            .join(AccountRow, AccountRow.id == UserRow.account_id)
            .where(AccountRow.account_number == account)
            .order_by(UserRow.id)
        )
        return [_user(row, account) for row in rows]


def _token(row: AccountTokenRow) -> AccountToken:
    return AccountToken(user_id=row.user_id, **secret_fields(row))


class SqlAccountTokens:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, token: AccountToken) -> AccountToken:
        row = AccountTokenRow(user_id=token.user_id, **secret_columns(token))
        async with guarded_write(
            self._session, "a token with this digest exists", f"user {token.user_id}"
        ):
            self._session.add(row)
        token.id, token.created_at = row.id, row.created_at
        return token

    async def get(self, account: AccountNumber, token_id: int) -> AccountToken:
        row = await self._session.scalar(
            select(AccountTokenRow)
            .join(UserRow, UserRow.id == AccountTokenRow.user_id)
            .join(AccountRow, AccountRow.id == UserRow.account_id)
            .where(AccountTokenRow.id == token_id, AccountRow.account_number == account)
        )
        if row is None:
            raise NotFound(f"no token {token_id}")
        return _token(row)

    async def list(self, account: AccountNumber, user_id: int | None) -> list[AccountToken]:
        query = (
            select(AccountTokenRow)
            .join(UserRow, UserRow.id == AccountTokenRow.user_id)
            .join(AccountRow, AccountRow.id == UserRow.account_id)
            .where(AccountRow.account_number == account)
            .order_by(AccountTokenRow.id)
        )
        if user_id is not None:
            query = query.where(AccountTokenRow.user_id == user_id)
        return [_token(row) for row in await self._session.scalars(query)]

    async def save(self, token: AccountToken) -> AccountToken:
        if token.id is None:
            raise NotFound("the token was never stored")
        async with guarded_write(self._session, "a token with this digest exists"):
            row = await self._session.get(AccountTokenRow, token.id)
            if row is None:
                raise NotFound(f"no token {token.id}")
            row.name = token.name
            row.digest = token.digest
            row.display_prefix = token.display_prefix
            row.revoked_at = token.revoked_at
        return token

    async def principal_for(self, digest: str) -> Principal | None:
        """The user behind an active token with this digest (an indexed lookup), or None."""
        found = (
            await self._session.execute(
                select(AccountTokenRow, UserRow, AccountRow.account_number)
                .join(UserRow, UserRow.id == AccountTokenRow.user_id)
                .join(AccountRow, AccountRow.id == UserRow.account_id)
                .where(AccountTokenRow.digest == digest, AccountTokenRow.revoked_at.is_(None))
            )
        ).first()
        if found is None:
            return None
        token, user, account_number = found
        if not same_digest(token.digest, digest):
            return None
        return Principal(
            user_id=user.id,
            username=user.username,
            account_number=AccountNumber(account_number),
            is_account_admin=user.is_account_admin,
            token_id=token.id,
        )
