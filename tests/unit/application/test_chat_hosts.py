"""The chat path's host lookup, keys, rate limits and the use case the routes call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from smarter.application.api_keys import CreateAPIKey, RevokeAPIKey
from smarter.application.chat.access import Admission, authorize
from smarter.application.chat.answer_chat import AnswerChat, ChatCall
from smarter.application.chat.answering import ChatStream
from smarter.application.chat.errors import (
    ClientNotReady,
    OriginRefused,
    RateLimited,
)
from smarter.application.chat.formats import ChatReply
from smarter.application.chat.hosts import (
    FindClientForHost,
    ServeHost,
    cache_key,
    serving_client,
)
from smarter.application.errors import Unauthenticated
from smarter.application.llm_clients import AttachCustomDomain
from smarter.application.ports import UnitOfWork
from smarter.domain.errors import InvalidValue, NotFound
from smarter.domain.llm_client import ClientMode
from tests.fakes import (
    FakeClientCache,
    FakeRateLimiter,
    ScriptedChatModel,
    completion,
)
from tests.unit.application.chat_world import (
    attached,
    chat_with,
    client_host,
    host,
    ready_client,
    units,
)
from tests.unit.application.conftest import ACCOUNT, World

# -- the host lookup ----------------------------------------------------------------------------


async def test_a_named_client_host_finds_its_client_and_caches_it(world: World) -> None:
    client = await ready_client(world)
    cache = FakeClientCache()
    find = FindClientForHost(cache, units(world))

    entry = await find(client_host())

    assert entry.client is not None and entry.client.id == client.id
    assert cache.entries[cache_key(client_host())] == entry
    world.uow.clients.rows.clear()  # a second lookup must not need the store
    assert (await find(client_host())).client is not None


async def test_concurrent_misses_on_one_host_load_it_once(world: World) -> None:
    await ready_client(world)
    opened: list[int] = []

    @asynccontextmanager
    async def counting() -> AsyncIterator[UnitOfWork]:
        opened.append(1)
        await asyncio.sleep(0.01)  # the first load is still running when the others arrive
        yield world.uow

    find = FindClientForHost(FakeClientCache(), counting)
    entries = await asyncio.gather(*(find(client_host()) for _ in range(10)))

    assert opened == [1]
    assert all(e.client is not None for e in entries)


async def test_every_local_alias_of_a_client_host_shares_one_cache_entry(world: World) -> None:
    assert cache_key(host(f"example.{ACCOUNT}.api.localhost:9357")) == cache_key(
        host(f"example.{ACCOUNT}.api.127.0.0.1:9357")
    )


async def test_an_unknown_client_host_is_cached_as_nothing_there(world: World) -> None:
    cache = FakeClientCache()
    entry = await FindClientForHost(cache, units(world))(client_host("nobody"))

    assert entry.client is None
    assert cache.entries[cache_key(client_host("nobody"))].client is None


async def test_the_entry_holds_the_digests_of_active_keys_only(world: World) -> None:
    client = await ready_client(world)
    assert client.id is not None
    kept = await CreateAPIKey(world.uow, world.clock)(world.admin, client.id, "kept")
    gone = await CreateAPIKey(world.uow, world.clock)(world.admin, client.id, "gone")
    assert gone.key.id is not None
    await RevokeAPIKey(world.uow, world.clock)(world.admin, client.id, gone.key.id)

    entry = await FindClientForHost(FakeClientCache(), units(world))(client_host())

    assert entry.api_keys == {kept.key.digest: kept.key.id}


async def test_a_verified_custom_domain_host_finds_the_client_attached_to_it(world: World) -> None:
    client = await ready_client(world)
    await attached(world, client, "bots.customer.com")

    entry = await FindClientForHost(FakeClientCache(), units(world))(
        host("example.bots.customer.com")
    )

    assert entry.client is not None and entry.client.id == client.id
    assert serving_client(entry, host("example.bots.customer.com"))[1] is ClientMode.CUSTOM


async def test_a_non_admins_client_is_found_under_its_two_label_custom_host(world: World) -> None:
    client_id = await world.create_client(world.user, "example", provider="fake")
    domain_id = await world.register_domain(world.admin, "bots.customer.com")
    world.verify_domain(domain_id)
    await AttachCustomDomain(world.uow, world.clock)(world.user, client_id, domain_id)

    entry = await FindClientForHost(FakeClientCache(), units(world))(
        host("example.user123.bots.customer.com")
    )

    assert entry.client is not None and entry.client.id == client_id


async def test_an_unverified_custom_domain_serves_nothing(world: World) -> None:
    client = await ready_client(world)
    await attached(world, client, "bots.customer.com", verified=False)

    entry = await FindClientForHost(FakeClientCache(), units(world))(
        host("example.bots.customer.com")
    )

    assert entry.client is None


async def test_a_verified_domain_does_not_serve_a_client_that_is_not_attached(world: World) -> None:
    await ready_client(world)
    world.verify_domain(await world.register_domain(world.admin, "bots.customer.com"))

    entry = await FindClientForHost(FakeClientCache(), units(world))(
        host("example.bots.customer.com")
    )

    assert entry.client is None


async def test_console_hosts_are_never_looked_up(world: World) -> None:
    cache = FakeClientCache()
    entry = await FindClientForHost(cache, units(world))(host("alpha.platform.example.com"))
    assert entry.client is None and cache.entries == {}


async def test_an_unknown_host_is_404_and_an_undeployed_client_503(world: World) -> None:
    client_id = await world.create_client(world.admin, "example", provider="fake")
    find = FindClientForHost(FakeClientCache(), units(world))

    with pytest.raises(NotFound):
        serving_client(await find(client_host("nobody")), client_host("nobody"))
    with pytest.raises(ClientNotReady, match="not deployed"):
        serving_client(await find(client_host()), client_host())

    client = await world.uow.clients.get(ACCOUNT, client_id)
    client.request_deployment(world.clock.now())
    await world.uow.clients.save(client)
    with pytest.raises(ClientNotReady, match="not ready"):
        serving_client(
            await FindClientForHost(FakeClientCache(), units(world))(client_host()), client_host()
        )


# -- keys and rate limits -----------------------------------------------------------------------


async def test_a_client_without_keys_needs_none(world: World) -> None:
    client = await ready_client(world)
    entry = await FindClientForHost(FakeClientCache(), units(world))(client_host())
    assert authorize(entry, None) is None
    assert authorize(entry, "anything") is None
    assert client.is_authentication_required is False


async def test_a_client_with_a_key_refuses_a_missing_or_wrong_key(world: World) -> None:
    client = await ready_client(world)
    assert client.id is not None
    created = await CreateAPIKey(world.uow, world.clock)(world.admin, client.id, "k")
    entry = await FindClientForHost(FakeClientCache(), units(world))(client_host())

    assert authorize(entry, created.plaintext) == created.key.id
    with pytest.raises(Unauthenticated, match="requires an API key"):
        authorize(entry, None)
    with pytest.raises(Unauthenticated, match="wrong or revoked"):
        authorize(entry, created.plaintext + "x")


async def test_admission_counts_per_key_or_per_caller_of_a_public_client(world: World) -> None:
    client = await ready_client(world)
    limiter = FakeRateLimiter(wait=12.5)
    admit = Admission(limiter, per_minute=2)

    await admit(client, 7, "10.0.0.1")
    await admit(client, 7, "10.0.0.2")
    with pytest.raises(RateLimited) as limited:
        await admit(client, 7, "10.0.0.3")
    await admit(client, None, "10.0.0.1")

    assert limited.value.retry_after == 12.5
    assert limiter.hits == {"key:7": 3, f"ip:{client.id}:10.0.0.1": 1}


# -- the use case the routes call ----------------------------------------------------------------


def answer_chat_for(world: World, model: ScriptedChatModel) -> tuple[AnswerChat, FakeRateLimiter]:
    limiter = FakeRateLimiter()
    serve = ServeHost(FindClientForHost(FakeClientCache(), units(world)), "https")
    answering, _ = chat_with(world, model)
    return AnswerChat(serve, Admission(limiter, per_minute=100), answering), limiter


def call(body: bytes | None = None, **fields: Any) -> tuple[ChatCall, list[int]]:
    """A call to the client host; the list counts the reads of its body."""
    reads: list[int] = []

    async def read_body() -> bytes:
        reads.append(1)
        return body if body is not None else b'{"messages":[{"role":"user","content":"hi"}]}'

    values: dict[str, Any] = {
        "host": client_host(),
        "origin": None,
        "presented_key": None,
        "caller": "10.0.0.1",
        "read_body": read_body,
        **fields,
    }
    return ChatCall(**values), reads


async def test_answer_chat_answers_a_call_on_the_clients_host(world: World) -> None:
    await ready_client(world)
    answer_chat, limiter = answer_chat_for(world, ScriptedChatModel(completion("Hi!")))
    chat_call, _ = call()

    reply = await answer_chat(chat_call)

    assert isinstance(reply, ChatReply)
    assert reply.choices[0]["message"]["content"] == "Hi!"
    assert sum(limiter.hits.values()) == 1


async def test_answer_chat_streams_when_the_caller_accepts_an_event_stream(world: World) -> None:
    await ready_client(world)
    answer_chat, _ = answer_chat_for(world, ScriptedChatModel(completion("one two")))

    reply = await answer_chat(call(stream_accepted=True)[0])

    assert isinstance(reply, ChatStream)
    assert [c async for c in reply][-1].usage is not None


async def test_answer_chat_refuses_a_page_from_another_origin_before_anything_else(
    world: World,
) -> None:
    await ready_client(world, cors_origins=["https://shop.example.org"])
    answer_chat, limiter = answer_chat_for(world, ScriptedChatModel())
    refused, reads = call(origin="https://evil.example.net")

    with pytest.raises(OriginRefused):
        await answer_chat(refused)
    allowed, _ = call(origin="https://shop.example.org")
    await answer_chat(allowed)

    assert reads == [] and sum(limiter.hits.values()) == 1


async def test_answer_chat_checks_the_key_before_reading_the_body(world: World) -> None:
    client = await ready_client(world)
    assert client.id is not None
    created = await CreateAPIKey(world.uow, world.clock)(world.admin, client.id, "k")
    answer_chat, _ = answer_chat_for(world, ScriptedChatModel())
    keyless, reads = call(body=b"{")

    with pytest.raises(Unauthenticated):
        await answer_chat(keyless)
    with pytest.raises(InvalidValue):
        await answer_chat(call(body=b"{", presented_key=created.plaintext)[0])

    assert reads == []
