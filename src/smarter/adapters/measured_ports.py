"""Decorators that count what passes through a chat port, for Prometheus: the wiring wraps the
real adapters in them, so that the adapters and the use cases stay free of metrics.

Each adds a counter increment (and, for the models, a clock read or two) to a call; the label
children are looked up once, never per call.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from smarter.adapters.prometheus_metrics import (
    CACHE_HIT,
    CACHE_MISS,
    LLM_DURATION,
    LLM_ERRORS,
    LLM_TOKENS,
    RATE_LIMITED,
)
from smarter.application.chat_ports import ClientCache, ClientEntry, RateLimiter
from smarter.application.llm import (
    ChatModel,
    ChatModels,
    Completion,
    CompletionChunk,
    CompletionRequest,
    UpstreamError,
)
from smarter.domain.account_number import AccountNumber


class CountedClientCache:
    """Counts lookups as hits or misses."""

    def __init__(self, cache: ClientCache) -> None:
        self.inner = cache

    async def get(self, host: str) -> ClientEntry | None:
        entry = await self.inner.get(host)
        (CACHE_MISS if entry is None else CACHE_HIT).inc()
        return entry

    async def put(self, host: str, entry: ClientEntry) -> None:
        await self.inner.put(host, entry)

    async def invalidate(self, accounts: Iterable[AccountNumber]) -> None:
        await self.inner.invalidate(accounts)


class CountedRateLimiter:
    """Counts refusals."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.inner = limiter

    async def hit(self, key: str, limit: int, window_seconds: float) -> float | None:
        wait = await self.inner.hit(key, limit, window_seconds)
        if wait is not None:
            RATE_LIMITED.inc()
        return wait


class MeasuredChatModel:
    """Times a provider's calls (a stream to its last chunk) and counts its errors and tokens."""

    def __init__(self, provider: str, model: ChatModel) -> None:
        self.provider, self.inner = provider, model
        self._duration = LLM_DURATION.labels(provider)
        self._prompt = LLM_TOKENS.labels(provider, "prompt")
        self._completion = LLM_TOKENS.labels(provider, "completion")

    async def complete(self, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        try:
            completion = await self.inner.complete(request)
        except UpstreamError as error:
            LLM_ERRORS.labels(self.provider, type(error).__name__).inc()
            raise
        finally:
            self._duration.observe(time.perf_counter() - started)
        self._count(completion.usage)
        return completion

    async def stream(self, request: CompletionRequest) -> AsyncIterator[CompletionChunk]:
        started = time.perf_counter()
        try:
            async for chunk in self.inner.stream(request):
                if chunk.usage:
                    self._count(chunk.usage)
                yield chunk
        except UpstreamError as error:
            LLM_ERRORS.labels(self.provider, type(error).__name__).inc()
            raise
        finally:
            self._duration.observe(time.perf_counter() - started)

    def _count(self, usage: Mapping[str, Any] | None) -> None:
        if not usage:
            return
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if isinstance(prompt, int) and prompt > 0:
            self._prompt.inc(prompt)
        if isinstance(completion, int) and completion > 0:
            self._completion.inc(completion)


class MeasuredChatModels:
    """The configured providers, each measured (wrapped once, on first use)."""

    def __init__(self, models: ChatModels) -> None:
        self.inner = models
        self._measured: dict[str, MeasuredChatModel] = {}

    def get(self, provider: str) -> ChatModel | None:
        name = provider.lower()  # provider names are case-insensitive
        measured = self._measured.get(name)
        if measured is not None:
            return measured
        model = self.inner.get(provider)
        if model is None:
            return None
        measured = self._measured[name] = MeasuredChatModel(name, model)
        return measured

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # the rest of the adapter (aclose, provider names)
