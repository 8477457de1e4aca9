"""Answering one turn of a client, whole or streamed, and recording it either way."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from smarter.application.chat.conversation import completion_request
from smarter.application.chat.errors import ProviderMissing
from smarter.application.chat.formats import ChatReply, ReplyChunk
from smarter.application.chat.recording import Turn, TurnRecorder
from smarter.application.chat.tool_rounds import ToolRounds
from smarter.application.llm import ChatModel, ChatModels, CompletionRequest, UpstreamError
from smarter.application.ports import Clock
from smarter.application.tools import ToolBox


class ChatStream:
    """A started streamed answer: iterate it for the chunks (errors after the first chunk
    surface as UpstreamError while iterating)."""

    def __init__(self, session_key: str, request_id: str, chunks: AsyncIterator[ReplyChunk]):
        self.session_key, self.request_id = session_key, request_id
        self._chunks = chunks

    def __aiter__(self) -> AsyncIterator[ReplyChunk]:
        return self._chunks

    async def aclose(self) -> None:
        close: Callable[[], Awaitable[None]] | None = getattr(self._chunks, "aclose", None)
        if close is not None:
            await close()


class Answerer:
    """Asks the client's provider, offering the client's functions as tools."""

    def __init__(
        self,
        models: ChatModels,
        tools: ToolBox,
        rounds: ToolRounds,
        turns: TurnRecorder,
        clock: Clock,
    ) -> None:
        self._models, self._tools, self._rounds = models, tools, rounds
        self._turns, self._clock = turns, clock

    async def __call__(self, turn: Turn, *, stream: bool) -> ChatReply | ChatStream:
        return await (self.stream(turn) if stream else self.reply(turn))

    async def reply(self, turn: Turn) -> ChatReply:
        try:
            model = self._model_of(turn)
            completion, _ = await self._rounds.complete(model, self._question(turn))
        except UpstreamError as error:
            self._turns.failed(turn, error.status, error.message)
            raise
        except Exception:
            self._turns.failed(turn, 500, "internal error")
            raise
        self._turns.answered(turn, completion)
        return ChatReply(
            id=completion.id,
            object=completion.object,
            created=completion.created,
            model=completion.model,
            choices=completion.choices,
            usage=completion.usage,
            session_key=turn.session_key,
            request_id=turn.request_id,
        )

    async def stream(self, turn: Turn) -> ChatStream:
        """Start a streamed answer: an upstream failure before the first chunk raises here."""
        try:
            model = self._model_of(turn)
        except UpstreamError as error:
            self._turns.failed(turn, error.status, error.message)
            raise
        chunks = self._turns.relay(turn, self._rounds.stream(model, self._question(turn)))
        try:
            first = await anext(chunks)
        except StopAsyncIteration:
            first = None
        return ChatStream(turn.session_key, turn.request_id, _prepend(first, chunks))

    def _model_of(self, turn: Turn) -> ChatModel:
        provider = turn.client.provider
        model = self._models.get(provider)
        if model is None:
            raise ProviderMissing(provider)
        return model

    def _question(self, turn: Turn) -> CompletionRequest:
        functions = turn.client.functions
        tools = self._tools.offered(functions) if functions else None
        return completion_request(turn.client, turn.request, self._clock.now(), tools)


async def _prepend(
    first: ReplyChunk | None, rest: AsyncIterator[ReplyChunk]
) -> AsyncIterator[ReplyChunk]:
    try:
        if first is not None:
            yield first
        async for chunk in rest:
            yield chunk
    finally:
        close = getattr(rest, "aclose", None)
        if close is not None:
            await close()
