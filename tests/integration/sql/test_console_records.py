"""The console's records against SQLite and PostgreSQL: passwords, invitations, sessions,
daily usage."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from smarter.adapters.sql.console_sessions import SqlSessionStore
from smarter.adapters.sql.unit_of_work import SqlUnitOfWork
from smarter.domain.accounts import Invitation
from smarter.domain.environments import Platform
from smarter.domain.history import ChatRequestRecord
from smarter.domain.secrets import hash_secret

from .factories import NUMBER, OTHER_NUMBER, a_stored_client, a_token, a_user, an_account

NewUoW = Callable[[], AbstractAsyncContextManager[SqlUnitOfWork]]


async def test_a_password_hash_and_the_active_flag_are_stored(
    uow: SqlUnitOfWork, new_uow: NewUoW
) -> None:
    await an_account(uow)
    user = await a_user(uow, username="ada", admin=False)
    assert user.id is not None
    assert await uow.users.password_hash(user.id) is None

    await uow.users.set_password_hash(user.id, "$argon2id$stand-in")
    user.is_active, user.is_account_admin = False, True
    await uow.users.save(user)
    await uow.commit()

    async with new_uow() as other:
        found = await other.users.find(NUMBER, "ada")
        assert await other.users.password_hash(user.id) == "$argon2id$stand-in"
        assert await other.users.find(NUMBER, "nobody") is None
    assert found is not None
    assert (found.is_active, found.is_account_admin, found.has_password) == (False, True, True)


async def test_a_deactivated_users_token_finds_no_principal(uow: SqlUnitOfWork) -> None:
    await an_account(uow)
    user = await a_user(uow, username="ada", admin=False)
    token, plaintext = a_token(user)
    await uow.tokens.add(token)
    assert await uow.tokens.principal_for(hash_secret(plaintext)) is not None

    user.is_active = False
    await uow.users.save(user)

    assert await uow.tokens.principal_for(hash_secret(plaintext)) is None


async def test_an_invitation_is_found_by_its_digest_with_its_account(
    uow: SqlUnitOfWork, new_uow: NewUoW
) -> None:
    await an_account(uow)
    await an_account(uow, OTHER_NUMBER)
    user = await a_user(uow, OTHER_NUMBER, "ada", admin=False)
    assert user.id is not None
    expires = datetime(2030, 1, 1, tzinfo=UTC)
    invitation = await uow.invitations.add(
        Invitation(
            account_number=OTHER_NUMBER, user_id=user.id, digest="d" * 64, expires_at=expires
        )
    )
    invitation.used_at = expires - timedelta(days=1)
    await uow.invitations.save(invitation)
    await uow.commit()

    async with new_uow() as other:
        found = await other.invitations.find("d" * 64)
        assert await other.invitations.find("e" * 64) is None
    assert found is not None
    assert (found.account_number, found.user_id, found.expires_at) == (
        OTHER_NUMBER,
        user.id,
        expires,
    )
    assert found.used_at == expires - timedelta(days=1)


async def test_daily_usage_groups_requests_by_utc_day(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    await an_account(uow)
    owner = await a_user(uow)
    client = await a_stored_client(uow, owner, platform)
    assert client.id is not None
    late = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
    for n, (at, status, prompt) in enumerate(
        [
            (late, 200, 3),
            (late - timedelta(hours=1), 429, 0),
            (late + timedelta(minutes=2), 200, 4),  # the next day in UTC
            (late - timedelta(days=40), 200, 9),  # before `since`
        ]
    ):
        await uow.history.add(
            ChatRequestRecord(
                llm_client_id=client.id,
                request_id=f"request-{n}",
                session_key="s",
                mode="default",
                status_code=status,
                latency_ms=2.0,
                request={},
                prompt_tokens=prompt,
                completion_tokens=2,
                created_at=at,
            )
        )
    await uow.commit()

    days = await uow.history.daily_usage(client.id, late - timedelta(days=29))

    assert [(d.day.isoformat(), d.requests, d.errors, d.prompt_tokens) for d in days] == [
        ("2026-03-01", 2, 1, 3),
        ("2026-03-02", 1, 0, 4),
    ]
    assert sum(d.completion_tokens for d in days) == 6


async def test_the_session_store_keeps_expires_renews_and_deletes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = SqlSessionStore(sessions)

    await store.set("a", b"one", expires_in=60)
    await store.set("a", "two", expires_in=60)  # replaced
    await store.set("gone", b"x", expires_in=timedelta(seconds=-1))
    await store.set("forever", b"y")

    assert await store.get("a") == b"two"
    assert await store.get("gone") is None and not await store.exists("gone")
    assert await store.expires_in("forever") is None
    expires = await store.expires_in("a")
    assert expires is not None and 50 < expires <= 60
    await store.get("a", renew_for=3600)
    renewed = await store.expires_in("a")
    assert renewed is not None and renewed > 3000
    await store.delete("a")
    assert await store.get("a") is None
    await store.delete_all()
    assert await store.get("forever") is None
