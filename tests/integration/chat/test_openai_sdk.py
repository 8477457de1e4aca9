"""`POST /v1/chat/completions` on a client host, driven by the real openai SDK:
`AsyncOpenAI(base_url="http://<client host>/v1", api_key=<client key>)`."""

from __future__ import annotations

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.integration.chat.conftest import Smarter, Tenant
from tests.support.openai_server import OpenAITestServer

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello from the SDK"}]


async def test_the_sdk_gets_an_answer_from_a_client_with_its_key(
    smarter: Smarter, tenant: Tenant
) -> None:
    client_id = await smarter.ready_client(tenant.admin, default_model="gpt-4o")
    _, key = await smarter.api_key(tenant.admin, client_id)
    sdk = smarter.openai(smarter.client_host(), key)

    answer = await sdk.chat.completions.create(model="anything", messages=MESSAGES)

    assert answer.choices[0].message.content == "You said: hello from the SDK"
    assert answer.model == "gpt-4o"  # the client's model, whatever the caller names
    assert answer.usage is not None and answer.usage.total_tokens > 0
    extra = answer.model_extra or {}
    assert len(extra["session_key"]) == 32 and len(extra["request_id"]) == 32


async def test_the_sdk_streams_an_answer(smarter: Smarter, tenant: Tenant) -> None:
    await smarter.ready_client(tenant.admin)
    sdk = smarter.openai(smarter.client_host())

    stream = await sdk.chat.completions.create(model="x", messages=MESSAGES, stream=True)
    pieces = [chunk async for chunk in stream]

    text = "".join(c.choices[0].delta.content or "" for c in pieces if c.choices)
    assert text == "You said: hello from the SDK"
    assert pieces[-1].usage is not None


async def test_the_sdk_gets_the_tool_answer_of_a_client_with_functions(
    smarter: Smarter, tenant: Tenant
) -> None:
    await smarter.ready_client(tenant.admin, functions=["date_calculator"])
    sdk = smarter.openai(smarter.client_host())

    answer = await sdk.chat.completions.create(
        model="x",
        messages=[{"role": "user", "content": "What is 2024-02-27 plus 3 days?"}],
    )

    assert answer.choices[0].message.content == (
        'The tool answered: {"date":"2024-03-01","weekday":"Friday"}'
    )


async def test_the_sdk_passes_temperature_and_max_tokens_within_the_clients_limits(
    smarter: Smarter, tenant: Tenant, upstream: OpenAITestServer
) -> None:
    await smarter.ready_client(tenant.admin, default_max_tokens=50)
    sdk = smarter.openai(smarter.client_host())

    await sdk.chat.completions.create(
        model="x",
        messages=MESSAGES,
        temperature=0.1,
        max_tokens=500,
    )

    sent = upstream.chat_requests()[-1]
    assert sent["temperature"] == 0.1 and sent["max_tokens"] == 50


async def test_the_sdk_sees_authentication_errors_for_a_missing_or_wrong_key(
    smarter: Smarter, tenant: Tenant
) -> None:
    client_id = await smarter.ready_client(tenant.admin)
    _, key = await smarter.api_key(tenant.admin, client_id)

    with pytest.raises(openai.AuthenticationError) as caught:
        await smarter.openai(smarter.client_host(), key + "x").chat.completions.create(
            model="x",
            messages=MESSAGES,
        )
    assert "wrong or revoked" in str(caught.value)


@pytest.mark.parametrize(
    ("model", "error", "status"),
    [
        ("fail-401", openai.InternalServerError, 502),
        ("fail-500", openai.InternalServerError, 502),
        ("fail-429", openai.RateLimitError, 429),
        ("slow", openai.InternalServerError, 504),
    ],
)
async def test_upstream_failures_reach_the_sdk_as_its_own_errors(
    smarter: Smarter, tenant: Tenant, model: str, error: type[Exception], status: int
) -> None:
    await smarter.ready_client(tenant.admin, default_model=model)
    sdk = smarter.openai(smarter.client_host())

    with pytest.raises(error) as caught:
        await sdk.chat.completions.create(model="x", messages=MESSAGES)

    assert caught.value.status_code == status  # type: ignore[attr-defined]
    assert "sk-" not in str(caught.value)


async def test_the_sdk_sees_a_stream_failing_midway_as_an_api_error(
    smarter: Smarter, tenant: Tenant
) -> None:
    await smarter.ready_client(tenant.admin, default_model="fail-stream")
    sdk = smarter.openai(smarter.client_host())
    stream = await sdk.chat.completions.create(model="x", messages=MESSAGES, stream=True)
    with pytest.raises(openai.APIError):
        async for _ in stream:
            pass


async def test_the_sdk_sees_an_undeployed_client_as_unavailable(
    smarter: Smarter, tenant: Tenant
) -> None:
    await smarter.new_client(tenant.admin)
    with pytest.raises(openai.InternalServerError) as caught:
        await smarter.openai(smarter.client_host()).chat.completions.create(
            model="x",
            messages=MESSAGES,
        )
    assert caught.value.status_code == 503
