"""Reading back a client's request history and conversations: pages, cursors, who may see."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smarter.application.history import (
    GetConversation,
    HistoryQuery,
    ListChatRequests,
    ListConversations,
)
from smarter.domain.errors import InvalidValue, NotFound
from smarter.domain.history import ChatMessage, ChatRequestRecord
from tests.unit.application.conftest import World


async def record_requests(world: World, client_id: int, count: int) -> None:
    for n in range(count):
        await world.uow.history.add(
            ChatRequestRecord(
                llm_client_id=client_id,
                request_id=f"{client_id}-req-{n}",
                session_key="s-1",
                mode="default",
                status_code=200,
                latency_ms=3.0,
                request={"messages": [{"role": "user", "content": f"question {n}"}]},
                created_at=world.clock.now() + timedelta(seconds=n),
            )
        )


async def test_requests_come_newest_first_in_pages_that_say_where_the_next_starts(
    world: World,
) -> None:
    client_id = await world.create_client(world.user)
    await record_requests(world, client_id, 5)
    list_requests = ListChatRequests(world.uow)

    first = await list_requests(world.user, client_id, HistoryQuery(limit=2))
    second = await list_requests(
        world.user, client_id, HistoryQuery(limit=2, before=first.next_before)
    )
    last = await list_requests(
        world.user, client_id, HistoryQuery(limit=2, before=second.next_before)
    )

    ids = [[r.request_id.split("-")[-1] for r in page.items] for page in (first, second, last)]
    assert ids == [["4", "3"], ["2", "1"], ["0"]]
    assert first.next_before == first.items[-1].id
    assert last.next_before is None


async def test_a_page_that_holds_exactly_the_rest_has_no_next_page(world: World) -> None:
    client_id = await world.create_client(world.admin)
    await record_requests(world, client_id, 2)

    page = await ListChatRequests(world.uow)(world.admin, client_id, HistoryQuery(limit=2))

    assert len(page.items) == 2 and page.next_before is None


async def test_an_admin_reads_a_members_client_history(world: World) -> None:
    client_id = await world.create_client(world.user)
    await record_requests(world, client_id, 1)

    page = await ListChatRequests(world.uow)(world.admin, client_id, HistoryQuery())

    assert len(page.items) == 1


@pytest.mark.parametrize("who", ["colleague", "stranger"])
async def test_nobody_else_learns_that_the_history_exists(world: World, who: str) -> None:
    client_id = await world.create_client(world.user)
    await record_requests(world, client_id, 1)
    await world.uow.conversations.append(client_id, "s-1", [ChatMessage(role="user", content="x")])
    principal = getattr(world, who)

    with pytest.raises(NotFound):
        await ListChatRequests(world.uow)(principal, client_id, HistoryQuery())
    with pytest.raises(NotFound):
        await ListConversations(world.uow)(principal, client_id, HistoryQuery())
    with pytest.raises(NotFound):
        await GetConversation(world.uow)(principal, client_id, "s-1")


async def test_conversations_come_last_active_first_with_their_message_counts(
    world: World,
) -> None:
    client_id = await world.create_client(world.admin)
    say = [ChatMessage(role="user", content="hi"), ChatMessage(role="assistant", content="hello")]
    conversations = world.uow.conversations
    await conversations.append(client_id, "older", say, at=world.clock.now())
    await conversations.append(client_id, "newer", say[:1], at=world.clock.now() + timedelta(1))
    list_conversations = ListConversations(world.uow)

    first = await list_conversations(world.admin, client_id, HistoryQuery(limit=1))
    rest = await list_conversations(world.admin, client_id, HistoryQuery(before=first.next_before))

    assert [(c.session_key, c.messages) for c in first.items + rest.items] == [
        ("newer", 1),
        ("older", 2),
    ]
    assert rest.next_before is None


async def test_a_conversation_is_read_with_its_messages_in_order(world: World) -> None:
    client_id = await world.create_client(world.admin)
    await world.uow.conversations.append(
        client_id,
        "s-1",
        [ChatMessage(role="user", content="hi"), ChatMessage(role="assistant", content="hello")],
    )

    conversation = await GetConversation(world.uow)(world.admin, client_id, "s-1")

    assert [m.content for m in conversation.messages] == ["hi", "hello"]


@pytest.mark.parametrize("session_key", ["unknown", "", "k" * 500])
async def test_an_unknown_conversation_is_not_found(world: World, session_key: str) -> None:
    client_id = await world.create_client(world.admin)

    with pytest.raises(NotFound):
        await GetConversation(world.uow)(world.admin, client_id, session_key)


async def test_a_conversation_of_another_client_is_not_found(world: World) -> None:
    mine = await world.create_client(world.admin, "mine")
    other = await world.create_client(world.admin, "other")
    await world.uow.conversations.append(other, "s-1", [ChatMessage(role="user", content="x")])

    with pytest.raises(NotFound):
        await GetConversation(world.uow)(world.admin, mine, "s-1")


@pytest.mark.parametrize(("limit", "before"), [(0, None), (201, None), (10, 0)])
def test_a_query_outside_the_bounds_is_refused(limit: int, before: int | None) -> None:
    with pytest.raises(InvalidValue):
        HistoryQuery(limit=limit, before=before)
