"""The port to a language model, in the OpenAI chat-completions shape.

Messages, tools and choices stay plain JSON-like dicts: they go to the provider and come back
to the caller as they are, so the hot path converts nothing it does not have to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

import msgspec

from smarter.domain.errors import DomainError

Message = dict[str, Any]


class CompletionRequest(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    messages: list[Message]
    temperature: float | None = None
    max_tokens: int | None = None
    tools: list[dict[str, Any]] | None = None


class Completion(msgspec.Struct, kw_only=True):
    """A ChatCompletion: `choices[i].message` may carry `tool_calls`."""

    id: str
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: dict[str, Any] | None = None
    object: str = "chat.completion"


class CompletionChunk(msgspec.Struct, kw_only=True):
    """One `chat.completion.chunk` of a streamed answer."""

    id: str
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: dict[str, Any] | None = None
    object: str = "chat.completion.chunk"


class ChatModel(Protocol):
    """One provider's models (OpenAI, any OpenAI-compatible server, or the offline echo)."""

    async def complete(self, request: CompletionRequest) -> Completion: ...

    def stream(self, request: CompletionRequest) -> AsyncIterator[CompletionChunk]: ...


class ChatModels(Protocol):
    """The configured providers by name, as a client's `provider` field names them."""

    def get(self, provider: str) -> ChatModel | None: ...


class UpstreamError(DomainError):
    """The provider failed; `status` is what the platform answers (never the provider key)."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class UpstreamTimeout(UpstreamError):
    def __init__(self, message: str = "the language model did not answer in time") -> None:
        super().__init__(504, message)


class UpstreamRateLimited(UpstreamError):
    def __init__(self, retry_after: float | None) -> None:
        super().__init__(429, "the language model provider is rate limiting", retry_after)


class UpstreamFailed(UpstreamError):
    def __init__(self, message: str) -> None:
        super().__init__(502, message)
