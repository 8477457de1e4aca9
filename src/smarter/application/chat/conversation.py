"""What the model is asked: the client's dated system role, the earlier turns, the question,
and the client's model settings (which a caller may adjust within the owner's limits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from smarter.application.chat.formats import ChatRequest
from smarter.application.llm import CompletionRequest, Message
from smarter.domain.llm_client import LLMClient


def completion_request(
    client: LLMClient,
    request: ChatRequest,
    now: datetime,
    tools: list[dict[str, Any]] | None,
) -> CompletionRequest:
    """The model's request for `request` to `client`, offering `tools`."""
    messages: list[Message] = [{"role": "system", "content": client.system_role_at(now)}]
    messages += history_messages(request)
    messages += ({"role": m.role, "content": m.content} for m in request.messages)
    max_tokens = client.default_max_tokens
    if request.max_tokens is not None:
        max_tokens = min(max_tokens, request.max_tokens)
    return CompletionRequest(
        model=client.default_model,
        messages=messages,
        temperature=(
            client.default_temperature if request.temperature is None else request.temperature
        ),
        max_tokens=max_tokens,
        tools=tools,
    )


def history_messages(request: ChatRequest) -> list[Message]:
    """The UI's transcript as earlier turns; a trailing line that repeats the question is the
    question itself (chat UIs add it before sending) and is left out."""
    items = request.prompt_history
    last_user = next(
        (text_of(m.content) for m in reversed(request.messages) if m.role == "user"), None
    )
    while items and items[-1].direction == "outgoing" and items[-1].message == last_user:
        items = items[:-1]
    return [
        {"role": "assistant" if item.direction == "incoming" else "user", "content": item.message}
        for item in items
        if item.message
    ]


def text_of(content: str | list[dict[str, Any]] | None) -> str:
    """The text of a message's content: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts = [part.get("text") for part in content if part.get("type") == "text"]
    return " ".join(t for t in texts if isinstance(t, str))
