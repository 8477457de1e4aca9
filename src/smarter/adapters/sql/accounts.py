"""Accounts, their users and the users' console tokens."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from smarter.adapters.sql.integrity import guarded_write
from smarter.adapters.sql.repositories import (
    AccountRows,
    AccountTokenRows,
    InvitationRows,
    UserRows,
    of_account,
    translates_errors,
)
from smarter.adapters.sql.rows import AccountRow, AccountTokenRow, InvitationRow, UserRow, utc_now
from smarter.adapters.sql.secret_rows import secret_columns, secret_fields
from smarter.domain.account_number import AccountNumber
from smarter.domain.accounts import Account, AccountToken, Invitation, Principal, User
from smarter.domain.errors import NotFound
from smarter.domain.secrets import same_digest


async def account_id_of(session: AsyncSession, number: AccountNumber) -> int:
    """The row id of an account; NotFound when there is no such account."""
    found = await session.scalar(select(AccountRow.id).where(AccountRow.account_number == number))
    if found is None:
        raise NotFound(f"no account {number}")
    return found


def _users_of(account: AccountNumber) -> Select[int]:
    return select(UserRow.id).where(of_account(UserRow.account_id, account))


@translates_errors
class SqlAccounts:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._rows = AccountRows(session)

    async def add(self, account: Account) -> Account:
        row = AccountRow(
            account_number=str(account.account_number),
            name=account.name,
            created_at=account.created_at or utc_now(),
        )
        async with guarded_write(self._session, f"account {account.account_number} exists"):
            await self._rows.add(row)
        account.id, account.created_at = row.id, row.created_at
        return account

    async def get(self, number: AccountNumber) -> Account:
        row = await self._rows.get_one(
            AccountRow.account_number == number,
            error_messages={"not_found": f"no account {number}"},
        )
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
        is_active=row.is_active,
        has_password=row.password_hash is not None,
        id=row.id,
        created_at=row.created_at,
    )


@translates_errors
class SqlUsers:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._rows = UserRows(session)

    async def add(self, user: User) -> User:
        row = UserRow(
            account_id=await account_id_of(self._session, user.account_number),
            username=user.username,
            is_account_admin=user.is_account_admin,
            email=user.email,
            is_active=user.is_active,
            created_at=user.created_at or utc_now(),
        )
        async with guarded_write(self._session, f"user {user.username} exists in this account"):
            await self._rows.add(row)
        user.id, user.created_at = row.id, row.created_at
        return user

    async def get(self, account: AccountNumber, user_id: int) -> User:
        row = await self._rows.get_one(
            UserRow.id == user_id,
            of_account(UserRow.account_id, account),
            error_messages={"not_found": f"no user {user_id}"},
        )
        return _user(row, account)

    async def list(self, account: AccountNumber) -> list[User]:
        rows = await self._rows.get_many(
            of_account(UserRow.account_id, account), order_by=UserRow.id.asc()
        )
        return [_user(row, account) for row in rows]

    async def find(self, account: AccountNumber, username: str) -> User | None:
        row = await self._rows.get_one_or_none(
            UserRow.username == username, of_account(UserRow.account_id, account)
        )
        return None if row is None else _user(row, account)

    async def save(self, user: User) -> User:
        changes = UserRow(
            id=user.id,
            email=user.email,
            is_account_admin=user.is_account_admin,
            is_active=user.is_active,
        )
        await self._rows.update(changes, error_messages={"not_found": f"no user {user.id}"})
        return user

    async def password_hash(self, user_id: int) -> str | None:
        row = await self._rows.get_one_or_none(UserRow.id == user_id)
        return None if row is None else row.password_hash

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        changes = UserRow(id=user_id, password_hash=password_hash)
        await self._rows.update(changes, error_messages={"not_found": f"no user {user_id}"})


def _invitation(row: InvitationRow, account_number: str) -> Invitation:
    return Invitation(
        account_number=AccountNumber(account_number),
        user_id=row.user_id,
        digest=row.digest,
        expires_at=row.expires_at,
        id=row.id,
        created_at=row.created_at,
        used_at=row.used_at,
    )


@translates_errors
class SqlInvitations:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._rows = InvitationRows(session)

    async def add(self, invitation: Invitation) -> Invitation:
        row = InvitationRow(
            user_id=invitation.user_id,
            digest=invitation.digest,
            expires_at=invitation.expires_at,
            created_at=invitation.created_at or utc_now(),
        )
        async with guarded_write(self._session, "an invitation with this digest exists"):
            await self._rows.add(row)
        invitation.id, invitation.created_at = row.id, row.created_at
        return invitation

    async def find(self, digest: str) -> Invitation | None:
        row = await self._rows.get_one_or_none(
            InvitationRow.digest == digest,
            load=[joinedload(InvitationRow.user).joinedload(UserRow.account)],
        )
        if row is None or not same_digest(row.digest, digest):
            return None
        return _invitation(row, row.user.account.account_number)

    async def save(self, invitation: Invitation) -> Invitation:
        changes = InvitationRow(id=invitation.id, used_at=invitation.used_at)
        await self._rows.update(
            changes, error_messages={"not_found": f"no invitation {invitation.id}"}
        )
        return invitation


def _token(row: AccountTokenRow) -> AccountToken:
    return AccountToken(user_id=row.user_id, **secret_fields(row))


@translates_errors
class SqlAccountTokens:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._rows = AccountTokenRows(session)

    async def add(self, token: AccountToken) -> AccountToken:
        row = AccountTokenRow(user_id=token.user_id, **secret_columns(token))
        async with guarded_write(
            self._session, "a token with this digest exists", f"user {token.user_id}"
        ):
            await self._rows.add(row)
        token.id, token.created_at = row.id, row.created_at
        return token

    async def get(self, account: AccountNumber, token_id: int) -> AccountToken:
        row = await self._rows.get_one(
            AccountTokenRow.id == token_id,
            AccountTokenRow.user_id.in_(_users_of(account)),
            error_messages={"not_found": f"no token {token_id}"},
        )
        return _token(row)

    async def list(self, account: AccountNumber, user_id: int | None) -> list[AccountToken]:
        of_user = () if user_id is None else (AccountTokenRow.user_id == user_id,)
        rows = await self._rows.get_many(
            AccountTokenRow.user_id.in_(_users_of(account)),
            *of_user,
            order_by=AccountTokenRow.id.asc(),
        )
        return [_token(row) for row in rows]

    async def save(self, token: AccountToken) -> AccountToken:
        if token.id is None:
            raise NotFound("the token was never stored")
        changes = AccountTokenRow(
            id=token.id,
            name=token.name,
            digest=token.digest,
            display_prefix=token.display_prefix,
            revoked_at=token.revoked_at,
        )
        async with guarded_write(self._session, "a token with this digest exists"):
            await self._rows.update(changes, error_messages={"not_found": f"no token {token.id}"})
        return token

    async def principal_for(self, digest: str) -> Principal | None:
        """The user behind an active token with this digest (an indexed lookup), or None.

        One select of three tables, not the repository: this runs on every console request,
        and it filters on the user, which a repository of tokens can only reach through a
        custom statement that would be this one."""
        found = (
            await self._session.execute(
                select(AccountTokenRow, UserRow, AccountRow.account_number)
                .join(UserRow, UserRow.id == AccountTokenRow.user_id)
                .join(AccountRow, AccountRow.id == UserRow.account_id)
                .where(
                    AccountTokenRow.digest == digest,
                    AccountTokenRow.revoked_at.is_(None),
                    UserRow.is_active,
                )
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
