"""AnswerChat: a chat request on a client host, from its host to its answer.

host → client (404 unknown, 503 not deployed or not ready) → the caller's page origin (403
for an origin the client does not allow) → API key (401) → rate limit (429) → body (400) →
the answer, whole or streamed. The body is read only once the caller is let in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from smarter.application.chat.access import Admission, authorize
from smarter.application.chat.answering import Answerer, ChatStream
from smarter.application.chat.formats import ChatReply, decode_chat_request
from smarter.application.chat.hosts import ServeHost
from smarter.application.chat.recording import Turn
from smarter.application.request_context import ACCOUNT, CLIENT
from smarter.domain.host_router import ResolvedHost


@dataclass(frozen=True, slots=True)
class ChatCall:
    """One chat request as it arrived."""

    host: ResolvedHost
    origin: str | None
    """The `Origin` of the calling page, if a browser sent one."""
    presented_key: str | None
    caller: str
    """The caller's address (public clients are rate limited per address)."""
    read_body: Callable[[], Awaitable[bytes]]
    stream_accepted: bool = False
    """The caller asked for a stream outside the body (`Accept: text/event-stream`)."""
    request_id: str | None = None
    """The request's id, when the platform made it (unique); None: the turn makes its own."""


class AnswerChat:
    def __init__(self, serve_host: ServeHost, admission: Admission, answerer: Answerer) -> None:
        self._serve_host, self._admission, self._answerer = serve_host, admission, answerer

    async def __call__(self, call: ChatCall) -> ChatReply | ChatStream:
        served = await self._serve_host(call.host, call.origin)
        ACCOUNT.set(served.client.account_number)  # for the request's log lines
        CLIENT.set(served.client.name)
        api_key_id = authorize(served.entry, call.presented_key)
        await self._admission(served.client, api_key_id, call.caller)
        request = decode_chat_request(await call.read_body())
        turn = Turn(served.client, request, served.mode, api_key_id, call.request_id)
        return await self._answerer(turn, stream=request.stream or call.stream_accepted)
