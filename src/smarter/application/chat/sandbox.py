"""The sandbox: the owner (or an admin of the account) chats with a client before deploying it."""

from __future__ import annotations

from smarter.application.chat.answering import Answerer, ChatStream
from smarter.application.chat.formats import ChatReply, ChatRequest
from smarter.application.chat.recording import Turn
from smarter.application.llm_clients import load_visible
from smarter.application.ports import UnitOfWork
from smarter.domain.accounts import Principal
from smarter.domain.llm_client import ClientMode, LLMClient


class LoadSandboxClient:
    """The client for its sandbox: the owner (or an admin of the account) only, deployed or not."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, client_id: int) -> LLMClient:
        return await load_visible(self._uow, principal, client_id)


class AnswerSandboxChat:
    """A turn in the sandbox, recorded in mode "sandbox"."""

    def __init__(self, load_client: LoadSandboxClient, answerer: Answerer) -> None:
        self._load_client, self._answerer = load_client, answerer

    async def __call__(
        self,
        principal: Principal,
        client_id: int,
        request: ChatRequest,
        *,
        stream: bool,
        request_id: str | None = None,
    ) -> ChatReply | ChatStream:
        client = await self._load_client(principal, client_id)
        turn = Turn(client, request, ClientMode.SANDBOX, None, request_id)
        return await self._answerer(turn, stream=stream)
