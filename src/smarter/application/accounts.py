"""Accounts, users and console tokens."""

from __future__ import annotations

import msgspec

from smarter.application.access import require_admin
from smarter.application.errors import Unauthenticated
from smarter.application.ports import Clock, UnitOfWork
from smarter.domain.account_number import AccountNumber, generate_account_number
from smarter.domain.accounts import Account, AccountToken, Principal, User
from smarter.domain.errors import Conflict, NotFound
from smarter.domain.secrets import hash_secret, new_secret


class NewUser(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    username: str
    email: str = ""
    is_account_admin: bool = False


class IssuedToken(msgspec.Struct, kw_only=True):
    """A token as created: the plaintext is shown this once and never again."""

    token: AccountToken
    plaintext: str


class CreatedAccount(msgspec.Struct, kw_only=True):
    account: Account
    admin: User
    token: IssuedToken


async def _issue(uow: UnitOfWork, clock: Clock, user: User, name: str) -> IssuedToken:
    assert user.id is not None
    secret = new_secret("tok")
    token = await uow.tokens.add(
        AccountToken(
            user_id=user.id,
            name=name,
            digest=secret.digest,
            display_prefix=secret.display_prefix,
            created_at=clock.now(),
        )
    )
    return IssuedToken(token=token, plaintext=secret.plaintext)


class CreateAccount:
    """A new account with its first admin user and that user's first token."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(
        self, name: str = "", admin_username: str = "admin", number: AccountNumber | None = None
    ) -> CreatedAccount:
        now = self._clock.now()
        account = await self._uow.accounts.add(
            Account(account_number=number or generate_account_number(), name=name, created_at=now)
        )
        admin = await self._uow.users.add(
            User(
                account_number=account.account_number,
                username=admin_username,
                is_account_admin=True,
                created_at=now,
            )
        )
        token = await _issue(self._uow, self._clock, admin, "first admin token")
        await self._uow.commit()
        return CreatedAccount(account=account, admin=admin, token=token)


class GetAccount:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal) -> Account:
        return await self._uow.accounts.get(principal.account_number)


class CreateUser:
    """An admin adds a user to their account; the new user gets a first token."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(self, principal: Principal, new: NewUser) -> tuple[User, IssuedToken]:
        require_admin(principal, "add users")
        user = await self._uow.users.add(
            User(
                account_number=principal.account_number,
                username=new.username,
                email=new.email,
                is_account_admin=new.is_account_admin,
                created_at=self._clock.now(),
            )
        )
        token = await _issue(self._uow, self._clock, user, "first token")
        await self._uow.commit()
        return user, token


class ListUsers:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal) -> list[User]:
        return await self._uow.users.list(principal.account_number)


class ChangeUser:
    """An admin makes a user an admin (or not), or deactivates (or reactivates) them."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(
        self,
        principal: Principal,
        user_id: int,
        *,
        is_account_admin: bool | None = None,
        is_active: bool | None = None,
    ) -> User:
        require_admin(principal, "change users")
        user = await self._uow.users.get(principal.account_number, user_id)
        if user_id == principal.user_id and (is_account_admin is False or is_active is False):
            # Keeps at least one admin who can undo it.
            raise Conflict("you cannot remove your own admin role or deactivate yourself")
        if is_account_admin is not None:
            user.is_account_admin = is_account_admin
        if is_active is not None:
            user.is_active = is_active
        user = await self._uow.users.save(user)
        await self._uow.commit()
        return user


class IssueToken:
    """A user issues a token for themselves; an admin may issue one for any user."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(
        self, principal: Principal, name: str, user_id: int | None = None
    ) -> IssuedToken:
        target = user_id if user_id is not None else principal.user_id
        if target != principal.user_id:
            require_admin(principal, "issue tokens for other users")
        user = await self._uow.users.get(principal.account_number, target)
        issued = await _issue(self._uow, self._clock, user, name)
        await self._uow.commit()
        return issued


class ListTokens:
    """Admins see every token of the account, other users their own."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal) -> list[AccountToken]:
        user_id = None if principal.is_account_admin else principal.user_id
        return await self._uow.tokens.list(principal.account_number, user_id)


class RevokeToken:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(self, principal: Principal, token_id: int) -> AccountToken:
        token = await self._uow.tokens.get(principal.account_number, token_id)
        if token.user_id != principal.user_id:
            require_admin(principal, "revoke other users' tokens")
        if token.revoked_at is None:
            token.revoked_at = self._clock.now()
            token = await self._uow.tokens.save(token)
            await self._uow.commit()
        return token


class Authenticate:
    """The principal behind a console token (`Token x` or `Bearer x`)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, plaintext: str | None) -> Principal:
        if not plaintext:
            raise Unauthenticated("an Authorization header with a token is required")
        principal = await self._uow.tokens.principal_for(hash_secret(plaintext))
        if principal is None:
            raise Unauthenticated("the token is not valid")
        return principal


class ActAs:
    """The principal an operator's CLI command acts as: a named user, or the first admin."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, account: AccountNumber, username: str | None = None) -> Principal:
        await self._uow.accounts.get(account)
        users = sorted(await self._uow.users.list(account), key=lambda u: u.id or 0)
        for user in users:
            if (user.username == username) if username else user.is_account_admin:
                assert user.id is not None
                return Principal(
                    user_id=user.id,
                    username=user.username,
                    account_number=account,
                    is_account_admin=user.is_account_admin,
                )
        raise NotFound(f"no user {username or '(admin)'} in account {account}")
