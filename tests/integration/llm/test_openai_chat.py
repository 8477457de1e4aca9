"""OpenAIChatModel: the openai SDK over real HTTP against the OpenAI-compatible test server.

Every test runs with both HTTP transports (httpx and aiohttp).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from smarter.adapters.openai_chat import OpenAIChatModel
from smarter.application.chat.tool_rounds import ToolRounds
from smarter.application.llm import (
    CompletionChunk,
    CompletionRequest,
    UpstreamError,
    UpstreamFailed,
    UpstreamRateLimited,
    UpstreamTimeout,
)
from smarter.application.tools import builtin_tools
from tests.integration.llm.conftest import API_KEY, TIMEOUT
from tests.support.openai_server import OpenAITestServer


def ask(text: str, model: str = "gpt-4o-mini", **fields: Any) -> CompletionRequest:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]
    return CompletionRequest(model=model, messages=messages, **fields)


def text_of(chunks: list[CompletionChunk]) -> str:
    return "".join(
        choice["delta"].get("content") or "" for chunk in chunks for choice in chunk.choices
    )


async def failure_of(model: OpenAIChatModel, request: CompletionRequest) -> UpstreamError:
    with pytest.raises(UpstreamError) as caught:
        await model.complete(request)
    return caught.value


async def stream_failure_of(
    model: OpenAIChatModel, request: CompletionRequest
) -> tuple[UpstreamError, list[CompletionChunk]]:
    chunks: list[CompletionChunk] = []
    with pytest.raises(UpstreamError) as caught:
        async for chunk in model.stream(request):
            chunks.append(chunk)
    return caught.value, chunks


def assert_no_secret_in(error: UpstreamError) -> None:
    assert API_KEY not in str(error)
    assert API_KEY not in error.message
    assert "sk-" not in error.message
    # The SDK's exception (whose text quotes the key) is not chained for tracebacks to print.
    assert error.__cause__ is None
    assert error.__suppress_context__


async def test_an_answer_is_a_chat_completion_echoing_the_last_user_message(
    model: OpenAIChatModel, openai_server: OpenAITestServer
) -> None:
    answer = await model.complete(ask("hello there", temperature=0.2, max_tokens=50))

    assert answer.object == "chat.completion"
    assert answer.id.startswith("chatcmpl-")
    assert answer.model == "gpt-4o-mini"
    assert answer.choices[0]["message"]["content"] == "You said: hello there"
    assert answer.choices[0]["finish_reason"] == "stop"
    assert answer.usage == {"prompt_tokens": 4, "completion_tokens": 4, "total_tokens": 8}
    received = openai_server.requests[-1]
    assert received.path == "/v1/chat/completions"
    assert received.headers["authorization"] == f"Bearer {API_KEY}"
    assert received.body == {
        "model": "gpt-4o-mini",
        "messages": ask("hello there").messages,
        "temperature": 0.2,
        "max_tokens": 50,
    }


async def test_a_streamed_answer_arrives_in_chunks_that_reassemble_the_text(
    model: OpenAIChatModel, openai_server: OpenAITestServer
) -> None:
    chunks = [chunk async for chunk in model.stream(ask("tell me a short story please"))]

    assert len(chunks) >= 4
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    assert len({chunk.id for chunk in chunks}) == 1
    assert text_of(chunks) == "You said: tell me a short story please"
    assert chunks[0].choices[0]["delta"]["role"] == "assistant"
    assert chunks[-2].choices[0]["finish_reason"] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage == {"prompt_tokens": 8, "completion_tokens": 8, "total_tokens": 16}
    body = openai_server.requests[-1].body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


async def test_a_provider_without_stream_options_is_not_sent_them(
    openai_server: OpenAITestServer,
) -> None:
    model = OpenAIChatModel(api_key="x", base_url=openai_server.base_url, stream_usage=False)
    try:
        chunks = [chunk async for chunk in model.stream(ask("hi"))]
    finally:
        await model.aclose()

    assert text_of(chunks) == "You said: hi"
    assert "stream_options" not in openai_server.requests[-1].body
    assert all(chunk.usage is None for chunk in chunks)


async def test_a_tool_call_round_trip_runs_the_date_calculator_and_sends_its_result(
    model: OpenAIChatModel, openai_server: OpenAITestServer
) -> None:
    toolbox = builtin_tools()
    request = ask(
        "How many days are there between 2024-01-01 and 2024-03-01?",
        tools=toolbox.offered(["date_calculator"]),
    )

    answer, messages = await ToolRounds(toolbox).complete(model, request)

    assert answer.choices[0]["message"]["content"] == 'The tool answered: {"days":60}'
    call = messages[2]["tool_calls"][0]
    assert call["function"]["name"] == "date_calculator"
    assert messages[3] == {"role": "tool", "tool_call_id": call["id"], "content": '{"days":60}'}
    first, second = openai_server.chat_requests()[-2:]
    assert first["tools"][0]["function"]["name"] == "date_calculator"
    assert second["messages"][-1] == messages[3]
    assert second["messages"][-2]["tool_calls"] == [call]
    assert answer.usage is not None
    assert answer.usage["total_tokens"] > 0
    assert answer.usage["prompt_tokens"] == 11 + 12  # words: the question, then with the tool


async def test_rejected_credentials_are_a_502_that_never_shows_the_key(
    model: OpenAIChatModel,
) -> None:
    error = await failure_of(model, ask("hi", model="fail-401"))

    assert isinstance(error, UpstreamFailed)
    assert error.status == 502
    assert "rejected the platform's credentials" in error.message
    assert "'local'" in error.message
    assert_no_secret_in(error)


async def test_a_wrong_key_for_a_server_that_checks_keys_is_a_502_without_the_key(
    openai_server: OpenAITestServer,
) -> None:
    with OpenAITestServer(api_key="the-right-key") as strict:
        model = OpenAIChatModel(api_key=API_KEY, base_url=strict.base_url)
        try:
            error = await failure_of(model, ask("hi"))
            streamed, _ = await stream_failure_of(model, ask("hi"))
        finally:
            await model.aclose()

    assert error.status == streamed.status == 502
    assert_no_secret_in(error)
    assert_no_secret_in(streamed)


async def test_a_forbidden_call_is_a_502_about_credentials(model: OpenAIChatModel) -> None:
    error = await failure_of(model, ask("hi", model="fail-403"))

    assert error.status == 502
    assert "credentials" in error.message
    assert_no_secret_in(error)


async def test_a_rejected_request_is_a_502_with_the_providers_reason(
    model: OpenAIChatModel,
) -> None:
    error = await failure_of(model, ask("hi", model="fail-400"))

    assert isinstance(error, UpstreamFailed)
    assert error.status == 502
    assert "upstream status 400" in error.message
    assert "Simulated failure 400." in error.message
    assert_no_secret_in(error)


async def test_a_rate_limited_call_is_a_429_with_the_providers_retry_after(
    model: OpenAIChatModel,
) -> None:
    error = await failure_of(model, ask("hi", model="fail-429"))
    streamed, _ = await stream_failure_of(model, ask("hi", model="fail-429"))

    assert isinstance(error, UpstreamRateLimited)
    assert (error.status, error.retry_after) == (429, 7.0)
    assert isinstance(streamed, UpstreamRateLimited)
    assert streamed.retry_after == 7.0


async def test_a_used_up_quota_is_a_502_not_a_rate_limit(model: OpenAIChatModel) -> None:
    error = await failure_of(model, ask("hi", model="fail-quota"))

    assert isinstance(error, UpstreamFailed)
    assert error.status == 502
    assert "quota" in error.message
    assert error.retry_after is None


@pytest.mark.parametrize("status_model", ["fail-500", "fail-503"])
async def test_a_provider_failure_is_a_502(model: OpenAIChatModel, status_model: str) -> None:
    error = await failure_of(model, ask("hi", model=status_model))
    streamed, _ = await stream_failure_of(model, ask("hi", model=status_model))

    assert isinstance(error, UpstreamFailed)
    assert error.status == streamed.status == 502
    assert f"upstream status {status_model[-3:]}" in error.message


async def test_a_slow_provider_is_a_504_within_the_configured_timeout(
    model: OpenAIChatModel,
) -> None:
    started = time.monotonic()
    error = await failure_of(model, ask("hi", model="slow"))
    elapsed = time.monotonic() - started

    assert isinstance(error, UpstreamTimeout)
    assert error.status == 504
    assert TIMEOUT * 0.9 <= elapsed < TIMEOUT + 0.5


async def test_a_slow_stream_is_a_504_within_the_configured_timeout(
    model: OpenAIChatModel,
) -> None:
    started = time.monotonic()
    error, chunks = await stream_failure_of(model, ask("hi", model="slow"))

    assert isinstance(error, UpstreamTimeout)
    assert chunks == []
    assert time.monotonic() - started < TIMEOUT + 0.5


async def test_an_answer_that_is_not_json_is_a_502(model: OpenAIChatModel) -> None:
    error = await failure_of(model, ask("hi", model="garbage"))
    streamed, chunks = await stream_failure_of(model, ask("hi", model="garbage"))

    assert isinstance(error, UpstreamFailed)
    assert error.status == 502
    assert "not a chat completion" in error.message
    assert isinstance(streamed, UpstreamFailed)
    assert chunks == []


async def test_an_error_in_the_middle_of_a_stream_is_a_502_after_the_first_chunks(
    model: OpenAIChatModel,
) -> None:
    error, chunks = await stream_failure_of(model, ask("hello you", model="fail-stream"))

    assert isinstance(error, UpstreamFailed)
    assert error.status == 502
    assert "during the answer" in error.message
    assert len(chunks) == 2


async def test_a_provider_that_cannot_be_reached_is_a_502(transport: str) -> None:
    with OpenAITestServer() as server:
        base_url = server.base_url  # a port that was free a moment ago, and is closed now
    model = OpenAIChatModel(api_key=API_KEY, base_url=base_url, transport=transport)  # type: ignore[arg-type]
    try:
        error = await failure_of(model, ask("hi"))
        streamed, _ = await stream_failure_of(model, ask("hi"))
    finally:
        await model.aclose()

    assert isinstance(error, UpstreamFailed)
    assert "could not be reached" in error.message
    assert streamed.status == 502


async def test_a_stream_left_early_closes_its_response(
    model: OpenAIChatModel,
) -> None:
    stream = model.stream(ask("one two three four five six"))
    first = await anext(stream)
    await stream.aclose()  # type: ignore[attr-defined]

    assert first.choices[0]["delta"]["role"] == "assistant"
    answer = await model.complete(ask("still working"))
    assert answer.choices[0]["message"]["content"] == "You said: still working"


def test_an_unknown_transport_is_refused() -> None:
    with pytest.raises(ValueError, match="transport"):
        OpenAIChatModel(api_key="x", transport="curl")  # type: ignore[arg-type]
