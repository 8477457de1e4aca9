"""Every chat turn goes to the history, answered or failed, streamed or whole.

A `Turn` is what is known of one request while it runs; `TurnRecorder` hands it to the
recorder port at its end (without waiting for storage), with the question and the answer as
the conversation's new messages.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Final

import msgspec

from smarter.application.chat.conversation import text_of
from smarter.application.chat.formats import ChatRequest, ReplyChunk
from smarter.application.chat_ports import ChatRecorder, ChatTurn
from smarter.application.llm import Completion, CompletionChunk, UpstreamError
from smarter.application.ports import Clock
from smarter.domain.history import ChatMessage, ChatRequestRecord
from smarter.domain.llm_client import ClientMode, LLMClient

CLIENT_CLOSED: Final = 499
"""Recorded when the caller went away before a streamed answer ended (nginx's code)."""


class Turn:
    """One request while it runs: its client, question, mode, key, ids and start time."""

    __slots__ = ("api_key_id", "client", "mode", "request", "request_id", "session_key", "started")

    def __init__(
        self,
        client: LLMClient,
        request: ChatRequest,
        mode: ClientMode,
        api_key_id: int | None,
        request_id: str | None = None,
    ) -> None:
        """`request_id`: the request's id when it is known to be unique (the history's key);
        None makes one."""
        self.client, self.request, self.mode, self.api_key_id = client, request, mode, api_key_id
        self.session_key = request.session_key or secrets.token_hex(16)
        self.request_id = request_id or uuid.uuid4().hex
        self.started = time.perf_counter()


class TurnRecorder:
    def __init__(self, recorder: ChatRecorder, clock: Clock) -> None:
        self._recorder, self._clock = recorder, clock

    def failed(self, turn: Turn, status: int, message: str) -> None:
        self.record(turn, status, {"error": message})

    def answered(self, turn: Turn, completion: Completion) -> None:
        response = {
            "id": completion.id,
            "model": completion.model,
            "choices": completion.choices,
            "usage": completion.usage,
        }
        self.record(turn, 200, response, _answer_text(completion), completion.usage)

    async def relay(
        self, turn: Turn, chunks: AsyncIterator[CompletionChunk]
    ) -> AsyncIterator[ReplyChunk]:
        """The chunks for the caller; the turn is recorded however the stream ends."""
        text: list[str] = []
        usage: dict[str, Any] | None = None
        status, failure = CLIENT_CLOSED, None
        try:
            async for chunk in chunks:
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices:
                    delta = choice.get("delta")
                    if isinstance(delta, dict) and isinstance(delta.get("content"), str):
                        text.append(delta["content"])
                yield ReplyChunk(
                    id=chunk.id,
                    object=chunk.object,
                    created=chunk.created,
                    model=chunk.model,
                    choices=chunk.choices,
                    usage=chunk.usage,
                    session_key=turn.session_key,
                    request_id=turn.request_id,
                )
            status = 200
        except UpstreamError as error:
            status, failure = error.status, error.message
            raise
        except Exception:
            status, failure = 500, "internal error"
            raise
        finally:
            answer = "".join(text)
            response: dict[str, Any] = {"content": answer, "usage": usage, "streamed": True}
            if failure is not None:
                response["error"] = failure
            self.record(turn, status, response, answer if status == 200 else None, usage)

    def record(
        self,
        turn: Turn,
        status: int,
        response: dict[str, Any],
        answer: str | None = None,
        usage: dict[str, Any] | None = None,
    ) -> None:
        assert turn.client.id is not None
        now = self._clock.now()
        usage = usage or {}
        messages = [
            ChatMessage(role="user", content=text_of(m.content), created_at=now)
            for m in turn.request.messages[-1:]
            if m.role == "user"
        ]
        if answer is not None:
            messages.append(ChatMessage(role="assistant", content=answer, created_at=now))
        record = ChatRequestRecord(
            llm_client_id=turn.client.id,
            request_id=turn.request_id,
            session_key=turn.session_key,
            mode=turn.mode.value,
            status_code=status,
            latency_ms=round((time.perf_counter() - turn.started) * 1000, 3),
            request=msgspec.to_builtins(turn.request),
            response=response,
            prompt_tokens=_count(usage.get("prompt_tokens")),
            completion_tokens=_count(usage.get("completion_tokens")),
            api_key_id=turn.api_key_id,
            created_at=now,
        )
        self._recorder.record(ChatTurn(record=record, messages=tuple(messages)))


def _answer_text(completion: Completion) -> str:
    if not completion.choices:
        return ""
    message = completion.choices[0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, str) else ""


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
