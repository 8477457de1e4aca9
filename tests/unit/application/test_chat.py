"""The chat use cases with fakes: host lookup, keys, rate limits, answers, streams, records."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest

from smarter.application.api_keys import CreateAPIKey, RevokeAPIKey
from smarter.application.chat import (
    Admission,
    Chat,
    ChatRequest,
    ClientNotReady,
    FindClientForHost,
    ProviderMissing,
    RateLimited,
    authorize,
    cache_key,
    serving_client,
)
from smarter.application.errors import Unauthenticated
from smarter.application.llm import UpstreamRateLimited, UpstreamTimeout
from smarter.application.llm_clients import AttachCustomDomain
from smarter.application.ports import UnitOfWork
from smarter.application.tools import builtin_tools
from smarter.domain.errors import NotFound
from smarter.domain.host_router import HostRouter, ResolvedHost
from smarter.domain.llm_client import ClientMode, LLMClient
from tests.fakes import (
    FakeChatModels,
    FakeChatRecorder,
    FakeClientCache,
    FakeRateLimiter,
    ScriptedChatModel,
    completion,
)
from tests.unit.application.conftest import ACCOUNT, PLATFORM, World

ROUTER = HostRouter(PLATFORM)


def host(name: str) -> ResolvedHost:
    return ROUTER.resolve(name)


def client_host(label: str = "example") -> ResolvedHost:
    return host(f"{label}.{ACCOUNT}.alpha.api.example.com")


def units(world: World) -> Any:
    @asynccontextmanager
    async def opened() -> AsyncIterator[UnitOfWork]:
        yield world.uow

    return opened


def ask(text: str = "hello", **fields: Any) -> ChatRequest:
    return msgspec.convert({"messages": [{"role": "user", "content": text}], **fields}, ChatRequest)


async def ready_client(world: World, name: str = "example", **fields: Any) -> LLMClient:
    client_id = await world.create_client(world.admin, name, provider="fake", **fields)
    client = await world.uow.clients.get(ACCOUNT, client_id)
    client.request_deployment(world.clock.now())
    await world.uow.clients.save(client)
    await world.provision(client_id)
    return await world.uow.clients.get(ACCOUNT, client_id)


def chat_with(
    world: World, model: ScriptedChatModel, rounds: int = 3
) -> tuple[Chat, FakeChatRecorder]:
    recorder = FakeChatRecorder()
    chat = Chat(FakeChatModels(fake=model), recorder, world.clock, builtin_tools(), rounds)
    return chat, recorder


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


async def attached(world: World, client: LLMClient, domain: str, verified: bool = True) -> None:
    domain_id = await world.register_domain(world.admin, domain)
    if verified:
        world.verify_domain(domain_id)
    assert client.id is not None
    await AttachCustomDomain(world.uow, world.clock)(world.admin, client.id, domain_id)


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


# -- answers -------------------------------------------------------------------------------------


async def test_the_conversation_has_the_dated_system_role_and_the_clients_settings(
    world: World,
) -> None:
    client = await ready_client(
        world, default_model="m-1", default_temperature=0.3, default_max_tokens=99
    )
    model = ScriptedChatModel()
    chat, _ = chat_with(world, model)

    await chat.answer(client, ask("what is FMLA?"), mode=ClientMode.DEFAULT)

    sent = model.requests[0]
    assert sent.model == "m-1" and sent.temperature == 0.3 and sent.max_tokens == 99
    assert sent.messages == [
        {"role": "system", "content": client.system_role_at(world.clock.now())},
        {"role": "user", "content": "what is FMLA?"},
    ]
    assert sent.messages[0]["content"].startswith("2026-01-02 03:04:05 System: ")
    assert sent.tools is None


async def test_prompt_history_becomes_earlier_turns_without_repeating_the_question(
    world: World,
) -> None:
    client = await ready_client(world)
    model = ScriptedChatModel()
    chat, _ = chat_with(world, model)
    history = [
        {
            "message": "Hello, How can I help you?",
            "direction": "incoming",
            "sender": "system",
            "sentTime": "11/16/2023, 5:53:32 PM",
        },
        {"message": "what is FMLA?", "direction": "outgoing", "sender": "user"},
    ]

    await chat.answer(client, ask("what is FMLA?", prompt_history=history), mode=ClientMode.DEFAULT)

    assert model.requests[0].messages[1:] == [
        {"role": "assistant", "content": "Hello, How can I help you?"},
        {"role": "user", "content": "what is FMLA?"},
    ]


async def test_a_caller_may_lower_max_tokens_but_not_raise_it(world: World) -> None:
    client = await ready_client(world, default_max_tokens=100)
    model = ScriptedChatModel()
    chat, _ = chat_with(world, model)

    await chat.answer(client, ask(max_tokens=10, temperature=1.5), mode=ClientMode.DEFAULT)
    await chat.answer(client, ask(max_tokens=1000), mode=ClientMode.DEFAULT)

    assert [r.max_tokens for r in model.requests] == [10, 100]
    assert model.requests[0].temperature == 1.5


async def test_the_reply_is_a_chat_completion_with_a_new_session_key_and_request_id(
    world: World,
) -> None:
    client = await ready_client(world)
    chat, _ = chat_with(world, ScriptedChatModel(completion("Hi!")))

    reply = await chat.answer(client, ask(), mode=ClientMode.DEFAULT)

    assert reply.object == "chat.completion" and reply.id == "chatcmpl-fake"
    assert reply.choices[0]["message"]["content"] == "Hi!"
    assert reply.usage == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    assert len(reply.session_key) == 32 and len(reply.request_id) == 32


async def test_a_given_session_key_is_kept(world: World) -> None:
    client = await ready_client(world)
    chat, _ = chat_with(world, ScriptedChatModel())
    reply = await chat.answer(client, ask(session_key="abc-123"), mode=ClientMode.DEFAULT)
    assert reply.session_key == "abc-123"


async def test_the_clients_functions_are_offered_and_the_tool_round_trip_runs(
    world: World,
) -> None:
    client = await ready_client(world, functions=["date_calculator"])
    call = {
        "id": "call_1",
        "type": "function",
        "function": {
            "name": "date_calculator",
            "arguments": '{"operation": "add_days", "date": "2024-01-30", "days": 2}',
        },
    }
    model = ScriptedChatModel(completion(None, [call]), completion("It is 2024-02-01."))
    chat, recorder = chat_with(world, model)

    reply = await chat.answer(client, ask("30 Jan 2024 plus 2 days?"), mode=ClientMode.DEFAULT)

    assert model.requests[0].tools is not None
    assert model.requests[0].tools[0]["function"]["name"] == "date_calculator"
    assert model.requests[1].messages[-1] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": '{"date":"2024-02-01","weekday":"Thursday"}',
    }
    assert reply.choices[0]["message"]["content"] == "It is 2024-02-01."
    assert reply.usage is not None and reply.usage["total_tokens"] == 10
    assert recorder.turns[0].record.prompt_tokens == 6


async def test_every_answer_is_recorded_with_its_messages(world: World) -> None:
    client = await ready_client(world)
    chat, recorder = chat_with(world, ScriptedChatModel(completion("Hi!")))

    reply = await chat.answer(client, ask("hello"), mode=ClientMode.DEFAULT, api_key_id=4)

    (turn,) = recorder.turns
    record = turn.record
    assert record.llm_client_id == client.id and record.request_id == reply.request_id
    assert record.session_key == reply.session_key and record.mode == "default"
    assert record.status_code == 200 and record.api_key_id == 4
    assert (record.prompt_tokens, record.completion_tokens) == (3, 2)
    assert record.request["messages"] == [{"role": "user", "content": "hello"}]
    assert record.latency_ms >= 0
    assert [(m.role, m.content) for m in turn.messages] == [("user", "hello"), ("assistant", "Hi!")]


async def test_an_upstream_failure_is_raised_and_recorded(world: World) -> None:
    client = await ready_client(world)
    chat, recorder = chat_with(world, ScriptedChatModel(UpstreamRateLimited(7)))

    with pytest.raises(UpstreamRateLimited):
        await chat.answer(client, ask(), mode=ClientMode.DEFAULT)

    (turn,) = recorder.turns
    assert turn.record.status_code == 429
    assert turn.record.response == {"error": "the language model provider is rate limiting"}
    assert [m.role for m in turn.messages] == ["user"]


async def test_a_provider_the_platform_lacks_is_a_503(world: World) -> None:
    client = await ready_client(world)
    recorder = FakeChatRecorder()
    chat = Chat(FakeChatModels(), recorder, world.clock, builtin_tools())

    with pytest.raises(ProviderMissing) as missing:
        await chat.answer(client, ask(), mode=ClientMode.DEFAULT)

    assert missing.value.status == 503
    assert recorder.turns[0].record.status_code == 503


# -- streams -------------------------------------------------------------------------------------


async def test_a_stream_yields_chunks_with_the_session_key_and_records_the_whole_answer(
    world: World,
) -> None:
    client = await ready_client(world)
    chat, recorder = chat_with(world, ScriptedChatModel(completion("one two three")))

    stream = await chat.stream(client, ask(), mode=ClientMode.DEFAULT)
    chunks = [chunk async for chunk in stream]

    assert {c.session_key for c in chunks} == {stream.session_key}
    assert {c.request_id for c in chunks} == {stream.request_id}
    text = "".join(c.choices[0]["delta"].get("content") or "" for c in chunks if c.choices)
    assert text == "one two three "
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    (turn,) = recorder.turns
    assert turn.record.status_code == 200 and turn.record.completion_tokens == 2
    assert turn.messages[-1].content == "one two three "


async def test_a_stream_that_fails_before_its_first_chunk_raises_at_once(world: World) -> None:
    client = await ready_client(world)
    chat, recorder = chat_with(world, ScriptedChatModel(UpstreamTimeout()))

    with pytest.raises(UpstreamTimeout):
        await chat.stream(client, ask(), mode=ClientMode.DEFAULT)

    assert recorder.turns[0].record.status_code == 504


async def test_a_stream_runs_the_tool_calls_and_hides_them_from_the_caller(world: World) -> None:
    client = await ready_client(world, functions=["date_calculator"])
    call = {
        "id": "call_9",
        "type": "function",
        "function": {
            "name": "date_calculator",
            "arguments": '{"operation": "days_between", '
            '"date": "2024-01-01", "other_date": "2024-01-31"}',
        },
    }
    model = ScriptedChatModel(completion(None, [call]), completion("30 days"))
    chat, recorder = chat_with(world, model)

    stream = await chat.stream(client, ask("how many days?"), mode=ClientMode.DEFAULT)
    chunks = [chunk async for chunk in stream]

    deltas = [c.choices[0]["delta"] for c in chunks if c.choices]
    assert not any("tool_calls" in d for d in deltas)
    assert "".join(d.get("content") or "" for d in deltas) == "30 days "
    assert model.requests[1].messages[-1]["content"] == '{"days":30}'
    assert chunks[-1].usage is not None and chunks[-1].usage["total_tokens"] == 10
    assert recorder.turns[0].record.status_code == 200


async def test_a_stream_closed_early_is_recorded_as_client_closed(world: World) -> None:
    client = await ready_client(world)
    chat, recorder = chat_with(world, ScriptedChatModel(completion("one two three")))

    stream = await chat.stream(client, ask(), mode=ClientMode.DEFAULT)
    async for _ in stream:
        break
    await stream.aclose()

    assert recorder.turns[0].record.status_code == 499


# -- the request body ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"messages": []},
        {"messages": [{"role": "user"}]},
        {"messages": [{"role": "wizard", "content": "hi"}]},
        {"messages": [{"role": "user", "content": 5}]},
        {"messages": [{"role": "user", "content": "hi"}], "session_key": "bad key!"},
        {"messages": [{"role": "user", "content": "hi"}], "temperature": 9},
        {"messages": [{"role": "user", "content": "hi"}], "prompt_history": [{"direction": "x"}]},
    ],
)
def test_a_bad_body_is_refused_by_the_request_type(body: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(body, ChatRequest)


def test_seed_002s_example_body_is_accepted() -> None:
    body = {
        "messages": [{"role": "user", "content": "what is FMLA?"}],
        "prompt_history": [
            {
                "message": "Hello, How can I help you?",
                "direction": "incoming",
                "sentTime": "11/16/2023, 5:53:32 PM",
                "sender": "system",
            }
        ],
    }
    request = msgspec.json.decode(msgspec.json.encode(body), type=ChatRequest)
    assert request.prompt_history[0].sent_time == "11/16/2023, 5:53:32 PM"
