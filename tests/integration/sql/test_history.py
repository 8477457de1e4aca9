"""Request history and conversations against SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from smarter.adapters.sql.unit_of_work import SqlUnitOfWork
from smarter.domain.environments import Platform
from smarter.domain.errors import Conflict
from smarter.domain.history import ChatMessage, ChatRequestRecord

from .factories import MOMENT, a_stored_client, an_account_with_admin, an_api_key, later

NewUoW = Callable[[], AbstractAsyncContextManager[SqlUnitOfWork]]


def a_record(client_id: int, request_id: str, seconds: float = 0) -> ChatRequestRecord:
    return ChatRequestRecord(
        llm_client_id=client_id,
        request_id=request_id,
        session_key="s-1",
        mode="default",
        status_code=200,
        latency_ms=12.5,
        request={"messages": [{"role": "user", "content": "Hi π"}]},
        response={"choices": [{"message": {"role": "assistant", "content": "Hello"}}]},
        prompt_tokens=3,
        completion_tokens=1,
        created_at=later(seconds),
    )


async def test_request_history_reads_back_newest_first(
    uow: SqlUnitOfWork, new_uow: NewUoW, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    client = await a_stored_client(uow, admin, platform)
    assert client.id is not None
    key = await uow.api_keys.add(an_api_key(client))
    first = a_record(client.id, "req-1")
    first.api_key_id = key.id
    await uow.history.add(first)
    await uow.history.add(a_record(client.id, "req-2", seconds=1))
    await uow.commit()

    async with new_uow() as other:
        records = await other.history.list(client.id)
        older = await other.history.list(client.id, before=records[0].id)

    assert [r.request_id for r in records] == ["req-2", "req-1"]
    assert records[1] == first and records[1].created_at == MOMENT
    assert [r.request_id for r in older] == ["req-1"]


async def test_a_request_id_is_recorded_once(uow: SqlUnitOfWork, platform: Platform) -> None:
    _, admin = await an_account_with_admin(uow)
    client = await a_stored_client(uow, admin, platform)
    assert client.id is not None
    await uow.history.add(a_record(client.id, "req-1"))

    with pytest.raises(Conflict):
        await uow.history.add(a_record(client.id, "req-1"))


async def test_a_conversation_keeps_its_messages_in_order(
    uow: SqlUnitOfWork, new_uow: NewUoW, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    client = await a_stored_client(uow, admin, platform)
    assert client.id is not None
    assert await uow.conversations.get(client.id, "s-1") is None

    chat_id = await uow.conversations.append(
        client.id,
        "s-1",
        [ChatMessage(role="user", content="Hi"), ChatMessage(role="assistant", content="Hello")],
        at=MOMENT,
    )
    again = await uow.conversations.append(
        client.id, "s-1", [ChatMessage(role="user", content="More?")], at=later(1)
    )
    await uow.conversations.append(client.id, "s-2", [ChatMessage(role="user", content="x")])
    await uow.commit()

    async with new_uow() as other:
        conversation = await other.conversations.get(client.id, "s-1")

    assert conversation is not None and conversation.id == chat_id == again
    assert [(m.role, m.content) for m in conversation.messages] == [
        ("user", "Hi"),
        ("assistant", "Hello"),
        ("user", "More?"),
    ]
    assert conversation.messages[2].created_at == later(1)
    assert (conversation.created_at, conversation.updated_at) == (MOMENT, later(1))


async def test_request_history_pages_by_cursor_even_when_times_tie(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    client = await a_stored_client(uow, admin, platform)
    other = await a_stored_client(uow, admin, platform, name="other")
    assert client.id is not None and other.id is not None
    for n in range(5):  # three share one instant
        await uow.history.add(a_record(client.id, f"req-{n}", seconds=min(n, 2)))
    foreign = await uow.history.add(a_record(other.id, "req-x"))
    await uow.commit()

    first = await uow.history.list(client.id, limit=2)
    second = await uow.history.list(client.id, limit=2, before=first[-1].id)
    third = await uow.history.list(client.id, limit=2, before=second[-1].id)

    pages = [[r.request_id for r in page] for page in (first, second, third)]
    assert pages == [["req-4", "req-3"], ["req-2", "req-1"], ["req-0"]]
    assert await uow.history.list(client.id, before=foreign.id) == []


async def test_conversations_list_last_active_first_with_message_counts(
    uow: SqlUnitOfWork, platform: Platform
) -> None:
    _, admin = await an_account_with_admin(uow)
    client = await a_stored_client(uow, admin, platform)
    assert client.id is not None
    hello = [ChatMessage(role="user", content="Hi")]
    await uow.conversations.append(client.id, "old", hello, at=MOMENT)
    await uow.conversations.append(client.id, "new", hello, at=later(1))
    await uow.conversations.append(client.id, "old", hello * 2, at=later(2))
    await uow.commit()

    first = await uow.conversations.list(client.id, limit=1)
    rest = await uow.conversations.list(client.id, limit=5, before=first[0].id)

    assert [(c.session_key, c.messages) for c in first + rest] == [("old", 3), ("new", 1)]
    assert (first[0].created_at, first[0].updated_at) == (MOMENT, later(2))
    assert await uow.conversations.list(client.id + 1) == []
