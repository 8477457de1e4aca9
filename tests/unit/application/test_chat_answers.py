"""Answers of the chat path with fakes: the conversation, tool rounds, streams, records."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from smarter.application.chat.errors import (
    ProviderMissing,
)
from smarter.application.chat.formats import ChatRequest
from smarter.application.llm import UpstreamRateLimited, UpstreamTimeout
from tests.fakes import (
    FakeChatModels,
    ScriptedChatModel,
    completion,
)
from tests.unit.application.chat_world import (
    answerer,
    ask,
    chat_with,
    ready_client,
    turn_of,
)
from tests.unit.application.conftest import World

# -- answers -------------------------------------------------------------------------------------


async def test_the_conversation_has_the_dated_system_role_and_the_clients_settings(
    world: World,
) -> None:
    client = await ready_client(
        world, default_model="m-1", default_temperature=0.3, default_max_tokens=99
    )
    model = ScriptedChatModel()
    chat, _ = chat_with(world, model)

    await chat.reply(turn_of(client, ask("what is FMLA?")))

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

    await chat.reply(turn_of(client, ask("what is FMLA?", prompt_history=history)))

    assert model.requests[0].messages[1:] == [
        {"role": "assistant", "content": "Hello, How can I help you?"},
        {"role": "user", "content": "what is FMLA?"},
    ]


async def test_a_caller_may_lower_max_tokens_but_not_raise_it(world: World) -> None:
    client = await ready_client(world, default_max_tokens=100)
    model = ScriptedChatModel()
    chat, _ = chat_with(world, model)

    await chat.reply(turn_of(client, ask(max_tokens=10, temperature=1.5)))
    await chat.reply(turn_of(client, ask(max_tokens=1000)))

    assert [r.max_tokens for r in model.requests] == [10, 100]
    assert model.requests[0].temperature == 1.5


async def test_the_reply_is_a_chat_completion_with_a_new_session_key_and_request_id(
    world: World,
) -> None:
    client = await ready_client(world)
    chat, _ = chat_with(world, ScriptedChatModel(completion("Hi!")))

    reply = await chat.reply(turn_of(client, ask()))

    assert reply.object == "chat.completion" and reply.id == "chatcmpl-fake"
    assert reply.choices[0]["message"]["content"] == "Hi!"
    assert reply.usage == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    assert len(reply.session_key) == 32 and len(reply.request_id) == 32


async def test_a_given_session_key_is_kept(world: World) -> None:
    client = await ready_client(world)
    chat, _ = chat_with(world, ScriptedChatModel())
    reply = await chat.reply(turn_of(client, ask(session_key="abc-123")))
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

    reply = await chat.reply(turn_of(client, ask("30 Jan 2024 plus 2 days?")))

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

    reply = await chat.reply(turn_of(client, ask("hello"), key=4))

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
        await chat.reply(turn_of(client, ask()))

    (turn,) = recorder.turns
    assert turn.record.status_code == 429
    assert turn.record.response == {"error": "the language model provider is rate limiting"}
    assert [m.role for m in turn.messages] == ["user"]


async def test_a_provider_the_platform_lacks_is_a_503(world: World) -> None:
    client = await ready_client(world)
    chat, recorder = answerer(world, FakeChatModels())

    with pytest.raises(ProviderMissing) as missing:
        await chat.reply(turn_of(client, ask()))

    assert missing.value.status == 503
    assert recorder.turns[0].record.status_code == 503


# -- streams -------------------------------------------------------------------------------------


async def test_a_stream_yields_chunks_with_the_session_key_and_records_the_whole_answer(
    world: World,
) -> None:
    client = await ready_client(world)
    chat, recorder = chat_with(world, ScriptedChatModel(completion("one two three")))

    stream = await chat.stream(turn_of(client, ask()))
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
        await chat.stream(turn_of(client, ask()))

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

    stream = await chat.stream(turn_of(client, ask("how many days?")))
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

    stream = await chat.stream(turn_of(client, ask()))
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


def test_a_body_with_messages_and_prompt_history_is_accepted() -> None:
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
