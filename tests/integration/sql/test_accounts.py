"""Accounts, users and console tokens against SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC

import pytest

from smarter.adapters.sql.unit_of_work import SqlUnitOfWork
from smarter.domain.account_number import AccountNumber
from smarter.domain.accounts import Account, Principal, User
from smarter.domain.errors import Conflict, NotFound
from smarter.domain.secrets import hash_secret

from .factories import (
    MOMENT,
    NUMBER,
    OTHER_NUMBER,
    a_token,
    a_user,
    an_account,
    an_account_with_admin,
    later,
)

NewUoW = Callable[[], AbstractAsyncContextManager[SqlUnitOfWork]]


async def test_an_account_reads_back_as_stored(uow: SqlUnitOfWork, new_uow: NewUoW) -> None:
    stored = await an_account(uow)
    await uow.commit()

    async with new_uow() as other:
        loaded = await other.accounts.get(NUMBER)

    assert loaded == Account(account_number=NUMBER, name="Pi", id=stored.id, created_at=MOMENT)
    assert loaded.created_at is not None and loaded.created_at.tzinfo is not None
    assert loaded.created_at.utcoffset() == UTC.utcoffset(None)


async def test_an_unknown_account_is_not_found(uow: SqlUnitOfWork) -> None:
    with pytest.raises(NotFound):
        await uow.accounts.get(OTHER_NUMBER)


async def test_a_second_account_with_the_same_number_is_a_conflict(uow: SqlUnitOfWork) -> None:
    await an_account(uow)
    with pytest.raises(Conflict, match="3141-5926-5359"):
        await an_account(uow)


async def test_the_unit_of_work_stays_usable_after_a_conflict(
    uow: SqlUnitOfWork, new_uow: NewUoW
) -> None:
    await an_account(uow)
    with pytest.raises(Conflict):
        await an_account(uow)
    await an_account(uow, OTHER_NUMBER)
    await uow.commit()

    async with new_uow() as other:
        assert (await other.accounts.get(NUMBER)).id is not None
        assert (await other.accounts.get(OTHER_NUMBER)).id is not None


async def test_a_user_reads_back_with_every_field(uow: SqlUnitOfWork, new_uow: NewUoW) -> None:
    await an_account(uow)
    stored = await a_user(uow, username="ada_l", admin=False)
    await uow.commit()

    async with new_uow() as other:
        assert stored.id is not None
        loaded = await other.users.get(NUMBER, stored.id)

    assert loaded == User(
        account_number=NUMBER,
        username="ada_l",
        is_account_admin=False,
        email="ada_l@example.com",
        id=stored.id,
        created_at=MOMENT,
    )


async def test_a_user_of_another_account_is_not_found(uow: SqlUnitOfWork) -> None:
    _, admin = await an_account_with_admin(uow)
    await an_account(uow, OTHER_NUMBER)
    assert admin.id is not None

    with pytest.raises(NotFound):
        await uow.users.get(OTHER_NUMBER, admin.id)


async def test_a_user_for_an_unknown_account_is_not_found(uow: SqlUnitOfWork) -> None:
    with pytest.raises(NotFound):
        await a_user(uow, OTHER_NUMBER)


async def test_usernames_are_unique_within_an_account_only(uow: SqlUnitOfWork) -> None:
    await an_account_with_admin(uow)
    await an_account_with_admin(uow, OTHER_NUMBER)

    with pytest.raises(Conflict, match="admin"):
        await a_user(uow, NUMBER, "admin")


async def test_users_are_listed_per_account_in_creation_order(uow: SqlUnitOfWork) -> None:
    await an_account_with_admin(uow)
    await a_user(uow, NUMBER, "zed", admin=False)
    await an_account_with_admin(uow, OTHER_NUMBER)

    assert [u.username for u in await uow.users.list(NUMBER)] == ["admin", "zed"]
    assert [u.username for u in await uow.users.list(AccountNumber("0000-0000-0000"))] == []


async def test_a_token_reads_back_and_is_hidden_from_other_accounts(uow: SqlUnitOfWork) -> None:
    _, admin = await an_account_with_admin(uow)
    await an_account(uow, OTHER_NUMBER)
    token, _ = a_token(admin)
    stored = await uow.tokens.add(token)
    assert stored.id is not None

    loaded = await uow.tokens.get(NUMBER, stored.id)
    assert loaded == stored
    assert loaded.created_at == MOMENT
    with pytest.raises(NotFound):
        await uow.tokens.get(OTHER_NUMBER, stored.id)


async def test_tokens_are_listed_for_the_account_or_one_user(uow: SqlUnitOfWork) -> None:
    _, admin = await an_account_with_admin(uow)
    user = await a_user(uow, NUMBER, "bob", admin=False)
    first = await uow.tokens.add(a_token(admin, "one")[0])
    second = await uow.tokens.add(a_token(user, "two")[0])

    assert [t.id for t in await uow.tokens.list(NUMBER, None)] == [first.id, second.id]
    assert [t.id for t in await uow.tokens.list(NUMBER, user.id)] == [second.id]
    assert await uow.tokens.list(OTHER_NUMBER, None) == []


async def test_two_tokens_with_one_digest_are_a_conflict(uow: SqlUnitOfWork) -> None:
    _, admin = await an_account_with_admin(uow)
    token, _ = a_token(admin)
    await uow.tokens.add(token)
    twin, _ = a_token(admin, "twin")
    twin.digest = token.digest

    with pytest.raises(Conflict):
        await uow.tokens.add(twin)


async def test_a_token_for_an_unknown_user_is_not_found(uow: SqlUnitOfWork) -> None:
    _, admin = await an_account_with_admin(uow)
    token, _ = a_token(admin)
    token.user_id = 999_999

    with pytest.raises(NotFound):
        await uow.tokens.add(token)


async def test_an_active_token_names_its_principal(uow: SqlUnitOfWork) -> None:
    _, admin = await an_account_with_admin(uow)
    token, plaintext = a_token(admin)
    await uow.tokens.add(token)
    await uow.commit()
    assert admin.id is not None

    assert await uow.tokens.principal_for(hash_secret(plaintext)) == Principal(
        user_id=admin.id,
        username="admin",
        account_number=NUMBER,
        is_account_admin=True,
        token_id=token.id,
    )
    assert await uow.tokens.principal_for(hash_secret("smt_tok_unknown")) is None


async def test_a_revoked_token_names_no_one(uow: SqlUnitOfWork, new_uow: NewUoW) -> None:
    _, admin = await an_account_with_admin(uow)
    token, plaintext = a_token(admin)
    await uow.tokens.add(token)
    token.revoked_at = later(60)
    await uow.tokens.save(token)
    await uow.commit()

    async with new_uow() as other:
        assert token.id is not None
        assert (await other.tokens.get(NUMBER, token.id)).revoked_at == later(60)
        assert await other.tokens.principal_for(hash_secret(plaintext)) is None
