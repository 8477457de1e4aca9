"""Accounts, their users and the users' console tokens."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from smarter.adapters.sql.integrity import guarded_write
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
        is_active=row.is_active,
        has_password=row.password_hash is not None,
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
            is_active=user.is_active,
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

    async def find(self, account: AccountNumber, username: str) -> User | None:
        row = await self._session.scalar(
            select(UserRow)
            .join(AccountRow, AccountRow.id == UserRow.account_id)
            .where(UserRow.username == username, AccountRow.account_number == account)
        )
        return None if row is None else _user(row, account)

    async def save(self, user: User) -> User:
        row = await self._row(user.id)
        row.email, row.is_account_admin, row.is_active = (
            user.email,
            user.is_account_admin,
            user.is_active,
        )
        await self._session.flush()
        return user

    async def password_hash(self, user_id: int) -> str | None:
        found: str | None = await self._session.scalar(
            select(UserRow.password_hash).where(UserRow.id == user_id)
        )
        return found

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        (await self._row(user_id)).password_hash = password_hash
        await self._session.flush()

    async def _row(self, user_id: int | None) -> UserRow:
        row = None if user_id is None else await self._session.get(UserRow, user_id)
        if row is None:
            raise NotFound(f"no user {user_id}")
        return row


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


class SqlInvitations:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, invitation: Invitation) -> Invitation:
        row = InvitationRow(
            user_id=invitation.user_id,
            digest=invitation.digest,
            expires_at=invitation.expires_at,
            created_at=invitation.created_at or utc_now(),
        )
        async with guarded_write(self._session, "an invitation with this digest exists"):
            self._session.add(row)
        invitation.id, invitation.created_at = row.id, row.created_at
        return invitation

    async def find(self, digest: str) -> Invitation | None:
        found = (
            await self._session.execute(
                select(InvitationRow, AccountRow.account_number)
                .join(UserRow, UserRow.id == InvitationRow.user_id)
                .join(AccountRow, AccountRow.id == UserRow.account_id)
                .where(InvitationRow.digest == digest)
            )
        ).first()
        if found is None or not same_digest(found[0].digest, digest):
            return None
        return _invitation(found[0], found[1])

    async def save(self, invitation: Invitation) -> Invitation:
        row = (
            None if invitation.id is None else await self._session.get(InvitationRow, invitation.id)
        )
        if row is None:
            raise NotFound(f"no invitation {invitation.id}")
        row.used_at = invitation.used_at
        await self._session.flush()
        return invitation


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
