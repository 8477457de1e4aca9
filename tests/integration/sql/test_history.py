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
        older = await other.history.list(client.id, before=later(1))

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
