"""What the chat use-case tests share: hosts, a ready client, a request, an answerer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec

from smarter.application.chat.answering import Answerer
from smarter.application.chat.formats import ChatRequest
from smarter.application.chat.recording import Turn, TurnRecorder
from smarter.application.chat.tool_rounds import ToolRounds
from smarter.application.llm_clients import AttachCustomDomain
from smarter.application.ports import UnitOfWork
from smarter.application.tools import builtin_tools
from smarter.domain.host_router import HostRouter, ResolvedHost
from smarter.domain.llm_client import ClientMode, LLMClient
from tests.fakes import (
    FakeChatModels,
    FakeChatRecorder,
    ScriptedChatModel,
)
from tests.unit.application.conftest import ACCOUNT, PLATFORM, World

ROUTER = HostRouter(PLATFORM)


def host(name: str) -> ResolvedHost:
    return ROUTER.resolve(name)


def client_host(label: str = "example") -> ResolvedHost:
    return host(f"{label}.{ACCOUNT}.alpha.api.example.com")


def units(world: World) -> Any:
    @asynccontextmanager
    async def opened() -> AsyncIterator[UnitOfWork]:
        yield world.uow

    return opened


def ask(text: str = "hello", **fields: Any) -> ChatRequest:
    return msgspec.convert({"messages": [{"role": "user", "content": text}], **fields}, ChatRequest)


async def ready_client(world: World, name: str = "example", **fields: Any) -> LLMClient:
    client_id = await world.create_client(world.admin, name, provider="fake", **fields)
    client = await world.uow.clients.get(ACCOUNT, client_id)
    client.request_deployment(world.clock.now())
    await world.uow.clients.save(client)
    await world.provision(client_id)
    return await world.uow.clients.get(ACCOUNT, client_id)


def answerer(
    world: World, models: FakeChatModels, rounds: int = 3
) -> tuple[Answerer, FakeChatRecorder]:
    recorder = FakeChatRecorder()
    tools = builtin_tools()
    turns = TurnRecorder(recorder, world.clock)
    return Answerer(models, tools, ToolRounds(tools, rounds), turns, world.clock), recorder


def chat_with(world: World, model: ScriptedChatModel) -> tuple[Answerer, FakeChatRecorder]:
    return answerer(world, FakeChatModels(fake=model))


def turn_of(
    client: LLMClient,
    request: ChatRequest,
    mode: ClientMode = ClientMode.DEFAULT,
    key: int | None = None,
) -> Turn:
    return Turn(client, request, mode, key)


async def attached(world: World, client: LLMClient, domain: str, verified: bool = True) -> None:
    domain_id = await world.register_domain(world.admin, domain)
    if verified:
        world.verify_domain(domain_id)
    assert client.id is not None
    await AttachCustomDomain(world.uow, world.clock)(world.admin, client.id, domain_id)
