"""The OpenAI-compatible test server, started once for the LLM adapter tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from smarter.adapters.openai_chat import OpenAIChatModel, Transport
from tests.support.openai_server import OpenAITestServer

API_KEY = "sk-test-Zq8wY3vT6uR1pO4nM7lK0jH2"
TIMEOUT = 0.5


@pytest.fixture(scope="session")
def openai_server() -> Iterator[OpenAITestServer]:
    with OpenAITestServer(slow_seconds=5) as server:
        yield server


@pytest.fixture(params=["httpx", "aiohttp"])
def transport(request: pytest.FixtureRequest) -> Transport:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def model(
    openai_server: OpenAITestServer, transport: Transport
) -> AsyncIterator[OpenAIChatModel]:
    chat = OpenAIChatModel(
        api_key=API_KEY,
        base_url=openai_server.base_url,
        timeout=TIMEOUT,
        transport=transport,
        provider="local",
    )
    yield chat
    await chat.aclose()
