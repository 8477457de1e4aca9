"""EchoChatModel: the offline provider "echo", for the embedded default and demos.

No network and no model: it answers at once with "echo: <the last user message>", in the
shape of a real ChatCompletion (and of real stream chunks), with usage counted in words.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from smarter.application.llm import Completion, CompletionChunk, CompletionRequest, Message

PROVIDER = "echo"
MODEL = "echo"
PREFIX = "echo: "


class EchoChatModel:
    """Echoes the last user message; the answer's model is always "echo"."""

    def __init__(self, pieces: int = 3) -> None:
        self._pieces = max(1, pieces)
        self._ids = itertools.count(1)
        self._prefix = f"chatcmpl-echo-{os.getpid():x}-"

    async def complete(self, request: CompletionRequest) -> Completion:
        answer = PREFIX + last_user_text(request.messages)
        message = {"role": "assistant", "content": answer}
        return Completion(
            id=self._new_id(),
            created=int(time.time()),
            model=MODEL,
            choices=[{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
            usage=_usage(request.messages, answer),
        )

    async def stream(self, request: CompletionRequest) -> AsyncIterator[CompletionChunk]:
        """A role chunk, the answer in a few pieces, a `stop` chunk, then a usage chunk.

        The last chunk has no choices and carries the usage, as OpenAI's streams do when asked
        for usage (`stream_options.include_usage`).
        """
        answer = PREFIX + last_user_text(request.messages)
        chunk_id, created = self._new_id(), int(time.time())

        def chunk(
            choices: list[dict[str, Any]], usage: dict[str, int] | None = None
        ) -> CompletionChunk:
            return CompletionChunk(
                id=chunk_id, created=created, model=MODEL, choices=choices, usage=usage
            )

        def choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}

        yield chunk([choice({"role": "assistant", "content": ""})])
        for piece in split_text(answer, self._pieces):
            yield chunk([choice({"content": piece})])
        yield chunk([choice({}, "stop")])
        yield chunk([], _usage(request.messages, answer))

    async def aclose(self) -> None:
        """Nothing to close; here so that every provider closes alike."""

    def _new_id(self) -> str:
        return f"{self._prefix}{next(self._ids)}"


def text_of(message: Message) -> str:
    """The text of a message whose content is a string or a list of content parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return " ".join(t for t in texts if isinstance(t, str))
    return ""


def last_user_text(messages: list[Message]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return text_of(message)
    return ""


def split_text(text: str, pieces: int) -> list[str]:
    """`text` in at most `pieces` consecutive parts, cut at spaces, that join back to it."""
    words = text.split(" ")
    size = -(-len(words) // pieces)
    parts = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return [part + " " for part in parts[:-1]] + parts[-1:]


def _words(text: str) -> int:
    return len(text.split())


def _usage(messages: list[Message], answer: str) -> dict[str, int]:
    prompt = sum(_words(text_of(m)) for m in messages)
    completion = _words(answer)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
