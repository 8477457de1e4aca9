"""The embedded default: without Redis, `serve` runs the provisioning jobs itself (in-process
queue, outbox relay), and in `local` a deployed client is ready at once."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dishka import AsyncContainer

from smarter.adapters.in_process_job_queue import InProcessJobQueue
from smarter.application import accounts, llm_clients
from smarter.application.infrastructure import JobQueue
from smarter.application.ports import UnitOfWork
from smarter.domain.account_number import AccountNumber
from smarter.domain.llm_client import LLMClient, LLMClientSpec
from smarter.entrypoints.demo import DEMO_ACCOUNT, DEMO_CLIENT, prepare_embedded
from smarter.entrypoints.settings import Settings
from smarter.entrypoints.wiring import make_container
from smarter.entrypoints.worker import EmbeddedProvisioning

ACCOUNT = AccountNumber("1111-2222-3333")


@pytest.fixture
async def container(database_url: str) -> AsyncIterator[AsyncContainer]:
    settings = dataclasses.replace(
        Settings(), database_url=database_url, demo=False, outbox_poll_seconds=5.0
    )
    container = make_container(settings)
    embedded = EmbeddedProvisioning(container, settings)
    await embedded.start()
    yield container
    await embedded.stop()
    await container.close()


async def _client(container: AsyncContainer, client_id: int) -> LLMClient:
    async with container() as request:
        uow: UnitOfWork = await request.get(UnitOfWork)
        return await uow.clients.get(ACCOUNT, client_id)


async def _deployed_client(container: AsyncContainer) -> int:
    async with container() as request:
        await (await request.get(accounts.CreateAccount))(
            name="Embedded", admin_username="admin", number=ACCOUNT
        )
        principal = await (await request.get(accounts.ActAs))(ACCOUNT)
        client = await (await request.get(llm_clients.CreateLLMClient))(
            principal, LLMClientSpec(name="helpdesk", provider="echo")
        )
        assert client.id is not None
        await (await request.get(llm_clients.DeployLLMClient))(principal, client.id)
        return client.id


async def test_a_deployed_local_client_becomes_ready_at_once_without_redis(
    container: AsyncContainer,
) -> None:
    assert isinstance(await container.get(JobQueue), InProcessJobQueue)
    started = time.monotonic()
    client_id = await _deployed_client(container)
    # The relay polls only every 5 s here: the commit itself wakes it.
    deadline = started + 3.0
    while not (await _client(container, client_id)).ready:
        assert time.monotonic() < deadline, "the client did not become ready"
        await asyncio.sleep(0.02)
    client = await _client(container, client_id)
    assert client.dns_verification_status == "Verified"
    assert client.tls_certificate_issuance_status == "Issued"


async def test_the_demo_client_is_ready_when_its_urls_are_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    await prepare_embedded(settings)
    assert "curl" in capsys.readouterr().out
    container = make_container(settings)
    try:
        async with container() as request:
            uow: UnitOfWork = await request.get(UnitOfWork)
            client = await uow.clients.get_by_name(DEMO_ACCOUNT, DEMO_CLIENT.name)
    finally:
        await container.close()
    assert client is not None
    assert client.deployed
    assert client.ready
