"""Ports of the chat hot path: the host → client cache, rate limits and the history recorder.

The chat endpoint must not touch the database per request: the client behind a host (with
the digests of its active API keys) comes from a cache that every write to a client, its keys
or its domain invalidates; history is handed to a recorder that writes it off the hot path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import msgspec

from smarter.domain.account_number import AccountNumber
from smarter.domain.history import ChatMessage, ChatRequestRecord
from smarter.domain.llm_client import LLMClient


class ClientEntry(msgspec.Struct, frozen=True, kw_only=True):
    """What the chat path needs about the client behind one host; `client` None = nothing there
    (cached too, so that a flood of unknown hosts does not reach the database)."""

    client: LLMClient | None
    api_keys: dict[str, int] = msgspec.field(default_factory=dict)  # digest → key id

    @property
    def account_number(self) -> AccountNumber | None:
        return None if self.client is None else self.client.account_number


class ClientCache(Protocol):
    async def get(self, host: str) -> ClientEntry | None:
        """The cached entry for `host`, or None when the cache does not know it."""
        ...

    async def put(self, host: str, entry: ClientEntry) -> None: ...

    async def invalidate(self, accounts: Iterable[AccountNumber]) -> None:
        """Forget every entry of these accounts and every negative entry (in every process)."""
        ...


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_seconds: float) -> float | None:
        """Count one request under `key`; None if within `limit`, else seconds to wait."""
        ...


class ChatTurn(msgspec.Struct, frozen=True, kw_only=True):
    """One recorded request and the messages it adds to its conversation."""

    record: ChatRequestRecord
    messages: tuple[ChatMessage, ...] = ()


class ChatRecorder(Protocol):
    def record(self, turn: ChatTurn) -> None:
        """Accept a turn without waiting for storage."""
        ...

    async def drain(self) -> None:
        """Store everything accepted so far (on shutdown; tests)."""
        ...
