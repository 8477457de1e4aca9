"""SqlChatRecorder on SQLite and PostgreSQL: turns queued without waiting, written in batches,
none lost on close; and the unit of work telling the chat cache which accounts it changed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from smarter.adapters.sql.chat_recorder import SqlChatRecorder
from smarter.adapters.sql.unit_of_work import SqlUnitOfWork
from smarter.application.chat_ports import ChatTurn
from smarter.domain.account_number import AccountNumber
from smarter.domain.custom_domain import CustomDomain
from smarter.domain.environments import Platform
from smarter.domain.history import ChatMessage, ChatRequestRecord
from tests.integration.sql.factories import (
    MOMENT,
    NUMBER,
    OTHER_NUMBER,
    a_stored_client,
    an_account_with_admin,
    an_api_key,
    later,
)


def turn(client_id: int, n: int, session_key: str = "s-1") -> ChatTurn:
    record = ChatRequestRecord(
        llm_client_id=client_id,
        request_id=f"req-{n}",
        session_key=session_key,
        mode="default",
        status_code=200,
        latency_ms=1.5,
        request={"messages": [{"role": "user", "content": f"q{n}"}]},
        response={"content": f"a{n}"},
        prompt_tokens=3,
        completion_tokens=2,
        created_at=later(n),
    )
    messages = (
        ChatMessage(role="user", content=f"q{n}", created_at=later(n)),
        ChatMessage(role="assistant", content=f"a{n}", created_at=later(n)),
    )
    return ChatTurn(record=record, messages=messages)


@pytest.fixture
async def client_id(uow: SqlUnitOfWork, platform: Platform) -> int:
    _, admin = await an_account_with_admin(uow)
    client = await a_stored_client(uow, admin, platform)
    await uow.commit()
    assert client.id is not None
    return client.id


async def test_record_returns_at_once_and_the_writer_stores_the_turns_in_the_background(
    sessions: async_sessionmaker[AsyncSession],
    new_uow: Callable[[], AbstractAsyncContextManager[SqlUnitOfWork]],
    client_id: int,
) -> None:
    recorder = SqlChatRecorder(sessions)
    for n in range(5):
        recorder.record(turn(client_id, n))
    assert recorder.queued == 5  # nothing awaited yet: nothing written

    for _ in range(500):  # the background writer gets there on its own
        async with new_uow() as other:
            records = await other.history.list(client_id, limit=10)
            conversation = await other.conversations.get(client_id, "s-1")
        if len(records) == 5:
            break
        await asyncio.sleep(0.01)
    assert [r.request_id for r in records] == [f"req-{n}" for n in reversed(range(5))]
    assert records[0].prompt_tokens == 3 and records[0].response == {"content": "a4"}
    assert conversation is not None and len(conversation.messages) == 10
    await recorder.aclose()


async def test_closing_stores_every_turn_accepted(
    sessions: async_sessionmaker[AsyncSession],
    new_uow: Callable[[], AbstractAsyncContextManager[SqlUnitOfWork]],
    client_id: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = SqlChatRecorder(sessions, batch_size=7)
    for n in range(50):
        recorder.record(turn(client_id, n, session_key=f"s-{n % 3}"))

    await recorder.aclose()

    async with new_uow() as other:
        records = await other.history.list(client_id, limit=100)
        conversations = [await other.conversations.get(client_id, f"s-{n}") for n in range(3)]
    assert len(records) == 50
    assert [len(c.messages) for c in conversations if c is not None] == [34, 34, 32]
    assert "turn by turn" not in caplog.text  # every batch went in as one


async def test_a_conversation_spans_from_its_first_turn_to_its_last_across_batches(
    sessions: async_sessionmaker[AsyncSession],
    new_uow: Callable[[], AbstractAsyncContextManager[SqlUnitOfWork]],
    client_id: int,
) -> None:
    recorder = SqlChatRecorder(sessions)
    for n in (2, 1, 3):  # one batch creates the conversation
        recorder.record(turn(client_id, n))
    await recorder.drain()
    recorder.record(turn(client_id, 5))  # the next one extends it
    await recorder.aclose()

    async with new_uow() as other:
        conversation = await other.conversations.get(client_id, "s-1")
    assert conversation is not None and len(conversation.messages) == 8
    assert (conversation.created_at, conversation.updated_at) == (later(1), later(5))


async def test_a_bad_turn_does_not_lose_the_others_of_its_batch(
    sessions: async_sessionmaker[AsyncSession],
    new_uow: Callable[[], AbstractAsyncContextManager[SqlUnitOfWork]],
    client_id: int,
) -> None:
    recorder = SqlChatRecorder(sessions)
    recorder.record(turn(client_id, 1))
    recorder.record(turn(client_id + 1000, 2))  # no such client
    recorder.record(turn(client_id, 1))  # the same request id twice
    recorder.record(turn(client_id, 3))

    await recorder.aclose()

    async with new_uow() as other:
        records = await other.history.list(client_id, limit=10)
    assert sorted(r.request_id for r in records) == ["req-1", "req-3"]


# -- the unit of work tells the cache what changed ----------------------------------------------


@pytest.fixture
def told() -> list[frozenset[AccountNumber]]:
    return []


@pytest.fixture
def tracked_uow(
    sessions: async_sessionmaker[AsyncSession],
    platform: Platform,
    told: list[frozenset[AccountNumber]],
) -> Callable[[], AbstractAsyncContextManager[SqlUnitOfWork]]:
    async def tell(accounts: frozenset[AccountNumber]) -> None:
        told.append(accounts)

    @asynccontextmanager
    async def opened() -> AsyncIterator[SqlUnitOfWork]:
        async with sessions() as session:
            yield SqlUnitOfWork(session, platform, after_commit=tell)

    return opened


async def test_commits_that_change_clients_keys_or_domains_name_their_accounts(
    tracked_uow: Callable[[], AbstractAsyncContextManager[SqlUnitOfWork]],
    platform: Platform,
    told: list[frozenset[AccountNumber]],
) -> None:
    async with tracked_uow() as uow:
        _, admin = await an_account_with_admin(uow)
        _, other_admin = await an_account_with_admin(uow, OTHER_NUMBER)
        await uow.commit()
        assert told == []  # accounts and users do not change what a host serves

        client = await a_stored_client(uow, admin, platform)
        await uow.commit()
        assert told == [frozenset({NUMBER})]

        key = await uow.api_keys.add(an_api_key(client))
        await uow.commit()
        key.revoked_at = MOMENT
        await uow.api_keys.save(key)
        await uow.commit()
        domain = await uow.domains.add(
            CustomDomain(domain_name="bots.co.uk", account_number=OTHER_NUMBER)
        )
        await uow.commit()
        client.deployed = True
        await uow.clients.save(client)
        await uow.clients.delete(client)
        await uow.domains.delete(domain)
        await uow.commit()
        assert told[1:] == [
            frozenset({NUMBER}),
            frozenset({NUMBER}),
            frozenset({OTHER_NUMBER}),
            frozenset({NUMBER, OTHER_NUMBER}),
        ]
        assert other_admin.id is not None


async def test_a_rolled_back_change_tells_nothing(
    tracked_uow: Callable[[], AbstractAsyncContextManager[SqlUnitOfWork]],
    platform: Platform,
    told: list[frozenset[AccountNumber]],
) -> None:
    async with tracked_uow() as uow:
        _, admin = await an_account_with_admin(uow)
        await uow.commit()
        await a_stored_client(uow, admin, platform)
        await uow.rollback()
        await uow.commit()
    assert told == []
