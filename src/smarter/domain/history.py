"""What the platform remembers of chats: request history and conversations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec


class ChatRequestRecord(msgspec.Struct, kw_only=True):
    """One chat request as answered; no secrets (the key is referred to by id)."""

    llm_client_id: int
    request_id: str
    session_key: str
    mode: str
    status_code: int
    latency_ms: float
    request: dict[str, Any]
    response: dict[str, Any] | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    api_key_id: int | None = None
    created_at: datetime | None = None
    id: int | None = None


class ChatMessage(msgspec.Struct, kw_only=True):
    role: str
    content: str
    created_at: datetime | None = None


class Conversation(msgspec.Struct, kw_only=True):
    """The messages of one `session_key` with one client."""

    llm_client_id: int
    session_key: str
    messages: list[ChatMessage] = msgspec.field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    id: int | None = None


class DailyUsage(msgspec.Struct, frozen=True, kw_only=True):
    """One UTC day of a client's chat requests: errors are answers with a 4xx or 5xx status."""

    day: date
    requests: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens
