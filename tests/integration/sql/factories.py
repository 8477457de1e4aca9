"""Small builders of stored objects for the repository tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from smarter.adapters.sql.unit_of_work import SqlUnitOfWork
from smarter.domain.account_number import AccountNumber
from smarter.domain.accounts import Account, AccountToken, LLMClientAPIKey, User
from smarter.domain.environments import Platform
from smarter.domain.llm_client import LLMClient
from smarter.domain.secrets import new_secret

NUMBER = AccountNumber("3141-5926-5359")
OTHER_NUMBER = AccountNumber("2718-2818-2845")
# Not a round number of seconds, and not UTC: the round trip must keep the instant exactly.
MOMENT = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def later(seconds: float) -> datetime:
    return MOMENT + timedelta(seconds=seconds)


async def an_account(uow: SqlUnitOfWork, number: AccountNumber = NUMBER) -> Account:
    return await uow.accounts.add(Account(account_number=number, name="Pi", created_at=MOMENT))


async def a_user(
    uow: SqlUnitOfWork,
    number: AccountNumber = NUMBER,
    username: str = "admin",
    *,
    admin: bool = True,
) -> User:
    return await uow.users.add(
        User(
            account_number=number,
            username=username,
            is_account_admin=admin,
            email=f"{username}@example.com",
            created_at=MOMENT,
        )
    )


async def an_account_with_admin(
    uow: SqlUnitOfWork, number: AccountNumber = NUMBER
) -> tuple[Account, User]:
    account = await an_account(uow, number)
    return account, await a_user(uow, number)


def a_client(owner: User, platform: Platform, name: str = "example", **spec: Any) -> LLMClient:
    assert owner.id is not None
    return LLMClient(
        name=name,
        platform=platform,
        account_number=owner.account_number,
        owner_id=owner.id,
        owner_username=owner.username,
        owner_is_admin=owner.is_account_admin,
        created_at=MOMENT,
        updated_at=MOMENT,
        **spec,
    )


async def a_stored_client(
    uow: SqlUnitOfWork, owner: User, platform: Platform, name: str = "example", **spec: Any
) -> LLMClient:
    return await uow.clients.add(a_client(owner, platform, name, **spec))


def a_token(user: User, name: str = "laptop") -> tuple[AccountToken, str]:
    assert user.id is not None
    secret = new_secret("tok")
    token = AccountToken(
        user_id=user.id,
        name=name,
        digest=secret.digest,
        display_prefix=secret.display_prefix,
        created_at=MOMENT,
    )
    return token, secret.plaintext


def an_api_key(client: LLMClient, name: str = "web") -> LLMClientAPIKey:
    assert client.id is not None
    secret = new_secret("key")
    return LLMClientAPIKey(
        llm_client_id=client.id,
        name=name,
        digest=secret.digest,
        display_prefix=secret.display_prefix,
        created_at=MOMENT,
    )
