"""The real platform on a loopback port, a few clients in it, and headless Chromium.

One server per test module: `smarter`'s app under uvicorn in a thread, the `local`
environment with `local_port` set to the server's port, so that the client hosts
`<client>.<account>.api.localhost:<port>` resolve in Chromium (it sends every `*.localhost`
name to loopback by itself) and the host router accepts them. SQLite in the test's temporary
folder, the offline `echo` provider, no Redis: the embedded default.

Clients are made through the use cases before the server starts; deployed ones are moved to
ready through the domain's own transitions when deploying did not already do it (a local
client needs no DNS or certificate).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from litestar import Litestar
from playwright.sync_api import Browser, sync_playwright

from smarter.adapters.sql.migrations import upgrade_to_head
from smarter.application.accounts import ActAs, CreateAccount
from smarter.application.api_keys import CreateAPIKey
from smarter.application.llm_clients import CreateLLMClient, DeployLLMClient
from smarter.application.ports import UnitOfWork
from smarter.domain.account_number import AccountNumber
from smarter.domain.environments import Environment
from smarter.domain.llm_client import LLMClient, LLMClientSpec
from smarter.domain.status import DnsVerificationStatus, TlsCertificateIssuanceStatus
from smarter.entrypoints.http.app import create_app
from smarter.entrypoints.settings import Settings
from smarter.entrypoints.wiring import make_container

ACCOUNT = AccountNumber("3141-5926-5359")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
START_TIMEOUT_SECONDS = 10.0

HELPDESK = LLMClientSpec(
    name="helpdesk",
    provider="echo",
    default_model="echo",
    app_name="Helpdesk <b>Bot</b>",
    app_assistant="Hal",
    app_welcome_message="Welcome! Ask me about opening hours.",
    app_example_prompts=["When are you open?", "Where are you?"],
    app_placeholder="Ask the helpdesk…",
    app_info_url="https://example.org/about",
)
# Never deployed: only the sandbox (workbench) answers for it.
DRAFT = LLMClientSpec(
    name="draft",
    provider="echo",
    default_model="echo",
    app_name="Draft Bot",
    app_welcome_message="Trying things out.",
)
# Deployed, and requires an API key.
VAULT = LLMClientSpec(
    name="vault",
    provider="echo",
    default_model="echo",
    app_name="Vault Bot",
    app_welcome_message="Members only.",
)


@dataclass(frozen=True)
class Platform:
    port: int
    token: str  # the account admin's console token
    api_key: str  # vault's key
    clients: dict[str, LLMClient]

    @property
    def console(self) -> str:
        return f"http://localhost:{self.port}"

    def client_url(self, name: str) -> str:
        return f"http://{name}.{ACCOUNT}.api.localhost:{self.port}"

    def workbench_url(self, name: str) -> str:
        """The client's `sandbox_url`, as the console API shows it."""
        url = self.clients[name].sandbox_url
        assert url == f"{self.console}/workbench/llm-clients/{self.clients[name].hashed_id}/"
        return url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _make_ready(uow: UnitOfWork, client: LLMClient) -> LLMClient:
    """What provisioning does for a local client, when deploying has not done it already."""
    assert client.id is not None
    client = await uow.clients.get(ACCOUNT, client.id)
    at = client.updated_at or client.created_at
    assert at is not None
    if client.dns_verification_status is not DnsVerificationStatus.VERIFIED:
        client.move_dns(DnsVerificationStatus.VERIFYING, "local host", at)
        client.move_dns(DnsVerificationStatus.VERIFIED, "local host", at)
    if client.tls_certificate_issuance_status is not TlsCertificateIssuanceStatus.ISSUED:
        client.move_tls(TlsCertificateIssuanceStatus.REQUESTED, "local host", at)
        client.move_tls(TlsCertificateIssuanceStatus.ISSUED, "local host", at)
    client = await uow.clients.save(client)
    await uow.commit()
    return client


async def _seed(settings: Settings) -> tuple[str, str, dict[str, LLMClient]]:
    container = make_container(settings)
    clients: dict[str, LLMClient] = {}
    try:
        async with container() as request:
            created = await (await request.get(CreateAccount))(name="Browser", number=ACCOUNT)
            admin = await (await request.get(ActAs))(ACCOUNT)
            create = await request.get(CreateLLMClient)
            for spec in (HELPDESK, DRAFT, VAULT):
                clients[spec.name] = await create(admin, spec)
            key = await (await request.get(CreateAPIKey))(admin, _id(clients["vault"]), "web")
            deploy = await request.get(DeployLLMClient)
            for name in ("helpdesk", "vault"):
                clients[name] = await deploy(admin, _id(clients[name]))
        for name in ("helpdesk", "vault"):
            async with container() as request:
                clients[name] = await _make_ready(await request.get(UnitOfWork), clients[name])
    finally:
        await container.close()
    return created.token.plaintext, key.plaintext, clients


def _id(client: LLMClient) -> int:
    assert client.id is not None
    return client.id


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    port = free_port()
    folder: Path = tmp_path_factory.mktemp("browser")
    settings = Settings(
        environment=Environment.LOCAL,
        local_port=port,
        port=port,
        database_url=f"sqlite+aiosqlite:///{folder / 'smarter.db'}",
        demo=False,
        log_level="warning",
    )
    upgrade_to_head(settings.database_url)
    token, api_key, clients = asyncio.run(_seed(settings))
    with serving(create_app(settings), port):
        yield Platform(port=port, token=token, api_key=api_key, clients=clients)


@contextmanager
def serving(app: Litestar, port: int) -> Iterator[None]:
    """`app` under uvicorn in a thread on 127.0.0.1:`port`, until the block ends."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        assert thread.is_alive(), "the server stopped while starting"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
