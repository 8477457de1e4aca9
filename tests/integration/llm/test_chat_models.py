"""The configured providers by name, and the offline "echo" provider."""

from __future__ import annotations

import pytest

from smarter.adapters.chat_models import ProviderChatModels, ProviderConfig, chat_models_from
from smarter.adapters.echo_chat import EchoChatModel
from smarter.adapters.openai_chat import OpenAIChatModel
from smarter.application.llm import CompletionRequest
from tests.support.openai_server import OpenAITestServer

QUESTION = CompletionRequest(
    model="anything",
    messages=[
        {"role": "system", "content": "You are a parrot."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": "what is the capital of France?"},
    ],
)


async def test_echo_answers_at_once_with_the_last_user_message() -> None:
    answer = await EchoChatModel().complete(QUESTION)

    assert answer.id.startswith("chatcmpl-echo-")
    assert answer.object == "chat.completion"
    assert answer.model == "echo"
    assert answer.created > 1_700_000_000
    assert answer.choices == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "echo: what is the capital of France?"},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert answer.usage == {"prompt_tokens": 14, "completion_tokens": 7, "total_tokens": 21}


async def test_echo_gives_each_answer_its_own_id() -> None:
    echo = EchoChatModel()

    first, second = await echo.complete(QUESTION), await echo.complete(QUESTION)

    assert first.id != second.id


async def test_echo_streams_a_few_chunks_ending_with_stop_and_then_usage() -> None:
    chunks = [chunk async for chunk in EchoChatModel().stream(QUESTION)]

    text = "".join(c.choices[0]["delta"].get("content", "") for c in chunks if c.choices)
    assert text == "echo: what is the capital of France?"
    assert 4 <= len(chunks) <= 8
    assert chunks[0].choices[0]["delta"]["role"] == "assistant"
    assert chunks[-2].choices[0]["finish_reason"] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage == {"prompt_tokens": 14, "completion_tokens": 7, "total_tokens": 21}
    assert {c.id for c in chunks} == {chunks[0].id}
    assert all(c.object == "chat.completion.chunk" and c.model == "echo" for c in chunks)


async def test_echo_reads_text_content_parts_and_answers_an_empty_conversation() -> None:
    parts = CompletionRequest(
        model="m",
        messages=[{"role": "user", "content": [{"type": "text", "text": "look at this"}]}],
    )

    assert (await EchoChatModel().complete(parts)).choices[0]["message"]["content"] == (
        "echo: look at this"
    )
    empty = await EchoChatModel().complete(CompletionRequest(model="m", messages=[]))
    assert empty.choices[0]["message"]["content"] == "echo: "


async def test_the_providers_answer_by_name_and_echo_is_always_there(
    openai_server: OpenAITestServer,
) -> None:
    models = chat_models_from(
        openai_api_key="sk-test-key",
        openai_base_url=openai_server.base_url,
        timeout=2.0,
        extra_providers={"Local": {"base_url": openai_server.base_url, "api_key": "x"}},
    )
    try:
        assert set(models.names) == {"echo", "openai", "local"}
        openai_model, local, echo = models.get("openai"), models.get("local"), models.get("echo")
        assert isinstance(openai_model, OpenAIChatModel)
        assert isinstance(local, OpenAIChatModel)
        assert isinstance(echo, EchoChatModel)
        assert models.get("LOCAL") is local
        assert models.get("anthropic") is None

        answer = await openai_model.complete(QUESTION)
        assert answer.choices[0]["message"]["content"] == "You said: what is the capital of France?"
        assert openai_server.requests[-1].headers["authorization"] == "Bearer sk-test-key"
        await local.complete(QUESTION)
        assert openai_server.requests[-1].headers["authorization"] == "Bearer x"
    finally:
        await models.aclose()


def test_without_an_openai_key_there_is_no_openai_provider() -> None:
    models = chat_models_from(None, None, 10.0, {})

    assert models.names == ("echo",)
    assert models.get("openai") is None


def test_extra_providers_take_their_own_timeout_transport_and_no_key() -> None:
    models = chat_models_from(
        None,
        None,
        10.0,
        {"vllm": {"base_url": "http://127.0.0.1:9/v1", "timeout": "3", "transport": "httpx"}},
    )
    vllm = models.get("vllm")

    assert isinstance(vllm, OpenAIChatModel)
    assert vllm.transport == "httpx"
    assert vllm.base_url.startswith("http://127.0.0.1:9/v1")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"echo": {"base_url": "http://x/v1"}}, "configured twice"),
        ({"openai": {"base_url": "http://x/v1"}}, "configured twice"),
        ({"local": {"api_key": "k"}}, "base_url"),
        ({"local": {"base_url": "ftp://x"}}, "base_url"),
        ({"local": {"base_url": "http://x/v1", "timeout": "soon"}}, "timeout"),
        ({"local": {"base_url": "http://x/v1", "timeout": "0"}}, "timeout"),
        ({"local": {"base_url": "http://x/v1", "transport": "curl"}}, "transport"),
        ({"local": {"base_url": "http://x/v1", "stream_usage": "maybe"}}, "stream_usage"),
        ({"local": {"base_url": "http://x/v1", "apikey": "k"}}, "unknown setting"),
        ({" ": {"base_url": "http://x/v1"}}, "name"),
    ],
)
def test_a_provider_setting_that_cannot_be_used_is_refused_by_name(
    extra: dict[str, dict[str, str]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        chat_models_from("sk-key", None, 10.0, extra)


def test_a_provider_config_never_shows_its_key() -> None:
    config = ProviderConfig(api_key="sk-very-secret", base_url="http://x/v1")

    assert "sk-very-secret" not in repr(config)
    assert "sk-very-secret" not in str(config)
    with pytest.raises(ValueError, match="configured twice"):
        ProviderChatModels({"a": config, "A": config})
