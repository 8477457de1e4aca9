"""The language-model port's errors and shapes, and the tools a client may offer its model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
import pytest

from smarter.application.llm import (
    Completion,
    CompletionChunk,
    CompletionRequest,
    UpstreamError,
    UpstreamFailed,
    UpstreamRateLimited,
    UpstreamTimeout,
)
from smarter.application.tools import ToolBox
from smarter.domain.errors import DomainError


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (UpstreamTimeout(), 504),
        (UpstreamRateLimited(retry_after=3.0), 429),
        (UpstreamFailed("the provider said no"), 502),
    ],
)
def test_an_upstream_failure_carries_the_status_the_platform_answers(
    error: UpstreamError, status: int
) -> None:
    assert isinstance(error, DomainError)
    assert error.status == status
    assert error.message


def test_a_rate_limited_upstream_says_when_to_retry() -> None:
    assert UpstreamRateLimited(retry_after=2.5).retry_after == 2.5
    assert UpstreamTimeout().retry_after is None


def test_completions_are_chat_completion_shaped() -> None:
    request = CompletionRequest(model="m", messages=[{"role": "user", "content": "hi"}])
    answer = Completion(id="c1", created=1, model="m", choices=[])
    chunk = CompletionChunk(id="c1", created=1, model="m", choices=[])

    assert (request.temperature, request.max_tokens, request.tools) == (None, None, None)
    assert msgspec.to_builtins(answer)["object"] == "chat.completion"
    assert chunk.object == "chat.completion.chunk"


class _Weather:
    name = "get_weather"

    @property
    def schema(self) -> dict[str, Any]:
        return {"type": "function", "function": {"name": self.name, "parameters": {}}}

    async def __call__(self, arguments: Mapping[str, Any]) -> str:
        return "sunny"


def test_a_toolbox_offers_the_schemas_of_the_tools_it_knows() -> None:
    weather = _Weather()
    box = ToolBox(tools={"get_weather": weather})

    assert box.offered(["get_weather", "unknown"]) == [weather.schema]
    assert box.offered(["unknown"]) is None
    assert box.offered([]) is None
    assert box.get("get_weather") is weather
    assert box.get("unknown") is None
