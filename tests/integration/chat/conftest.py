"""The real app, served by uvicorn on loopback, chatting with the OpenAI-compatible test server.

Everything is real: the host gate, the client-host app, the SQLite database (migrated once,
emptied per test), the memory cache and rate limiter, the SQL recorder, and the openai SDK
over HTTP (upstream and, for `/v1/chat/completions`, in front). Hosts like
`example.1111-2222-3333.api.localhost` do not resolve, so the test clients connect to
127.0.0.1 and send the host in the Host header. Every response is checked: none is a 500.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import httpx2
import openai
import pytest
import uvicorn

from smarter.application.accounts import CreateAccount
from smarter.application.chat_ports import ChatRecorder
from smarter.application.ports import UnitOfWork
from smarter.domain.account_number import AccountNumber
from smarter.domain.custom_domain import VerificationReport
from smarter.domain.status import DnsVerificationStatus, TlsCertificateIssuanceStatus
from smarter.entrypoints.http.app import create_app
from smarter.entrypoints.settings import Settings
from smarter.entrypoints.wiring import make_container
from tests.integration.conftest import empty_database, fresh_database
from tests.support.openai_server import OpenAITestServer

UPSTREAM_KEY = "sk-upstream-Zq8wY3vT6uR1pO4nM7lK0jH2"
ACCOUNT = "1111-2222-3333"
OTHER_ACCOUNT = "4444-5555-6666"
TIMEOUT = 0.5


@pytest.fixture(scope="session")
def upstream() -> Iterator[OpenAITestServer]:
    with OpenAITestServer(api_key=UPSTREAM_KEY, slow_seconds=5) as server:
        yield server


@pytest.fixture(scope="session")
def chat_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database("sqlite", tmp_path_factory.mktemp("chat")) as url:
        yield url


@dataclass
class Tenant:
    account: str
    admin: dict[str, str]
    member: dict[str, str]


class Loopback(httpx2.AsyncBaseTransport):
    """Sends every request to 127.0.0.1, keeping the Host header of its URL (for the SDK)."""

    def __init__(self) -> None:
        self._inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        request.url = request.url.copy_with(host="127.0.0.1")
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass
class Smarter:
    settings: Settings
    container: Any
    http: httpx.AsyncClient
    statuses: list[int] = field(default_factory=list)
    sdk_clients: list[openai.AsyncOpenAI] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.settings.local_port

    @property
    def console_host(self) -> str:
        return f"localhost:{self.port}"

    def client_host(self, label: str = "example", account: str = ACCOUNT) -> str:
        return f"{label}.{account}.api.localhost:{self.port}"

    async def request(self, host: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Host": host, **kwargs.pop("headers", {})}
        return await self.http.request(method, path, headers=headers, **kwargs)

    async def console(
        self, method: str, path: str, token: dict[str, str], **kwargs: Any
    ) -> httpx.Response:
        headers = {**token, **kwargs.pop("headers", {})}
        return await self.request(self.console_host, method, path, headers=headers, **kwargs)

    async def chat(
        self, host: str, text: str = "hello", headers: dict[str, str] | None = None, **body: Any
    ) -> httpx.Response:
        payload = {"messages": [{"role": "user", "content": text}], **body}
        return await self.request(host, "POST", "/llm-client/", json=payload, headers=headers or {})

    # -- setting the scene through the console API and the domain's own transitions ------------

    async def tenant(self, number: str = ACCOUNT, member: str = "member") -> Tenant:
        async with self.container() as scope:
            created = await (await scope.get(CreateAccount))(
                name=f"account {number}", number=AccountNumber(number)
            )
        admin = {"Authorization": f"Token {created.token.plaintext}"}
        response = await self.console("POST", "/api/v1/users/", admin, json={"username": member})
        assert response.status_code == 201, response.text
        return Tenant(number, admin, {"Authorization": f"Token {response.json()['token']}"})

    async def new_client(self, owner: dict[str, str], name: str = "example", **spec: Any) -> int:
        body = {"name": name, "provider": "local", **spec}
        response = await self.console("POST", "/api/v1/llm-clients/", owner, json=body)
        assert response.status_code == 201, response.text
        client_id: int = response.json()["id"]
        return client_id

    async def deploy(self, owner: dict[str, str], client_id: int, *, ready: bool = True) -> None:
        response = await self.console("POST", f"/api/v1/llm-clients/{client_id}/deploy/", owner)
        assert response.status_code == 202, response.text
        if ready:
            await self.make_ready(response.json()["account_number"], client_id)

    async def make_ready(self, account: str, client_id: int) -> None:
        """What the provisioning worker does for a local client, through the domain's own
        transitions (and a commit, which invalidates the chat cache)."""
        async with self.container() as scope:
            uow = await scope.get(UnitOfWork)
            client = await uow.clients.get(AccountNumber(account), client_id)
            at = datetime.now(UTC)
            if client.dns_verification_status is not DnsVerificationStatus.VERIFIED:
                client.move_dns(DnsVerificationStatus.VERIFYING, "record written", at)
                client.move_dns(DnsVerificationStatus.VERIFIED, "host resolves", at)
            if client.tls_certificate_issuance_status is not TlsCertificateIssuanceStatus.ISSUED:
                client.move_tls(TlsCertificateIssuanceStatus.REQUESTED, "ordered", at)
                client.move_tls(TlsCertificateIssuanceStatus.ISSUED, "issued", at)
            await uow.clients.save(client)
            await uow.commit()

    async def ready_client(self, owner: dict[str, str], name: str = "example", **spec: Any) -> int:
        client_id = await self.new_client(owner, name, **spec)
        await self.deploy(owner, client_id)
        return client_id

    async def verified_domain(self, tenant: Tenant, domain_name: str) -> int:
        response = await self.console(
            "POST", "/api/v1/custom-domains/", tenant.admin, json={"domain_name": domain_name}
        )
        assert response.status_code == 201, response.text
        domain_id: int = response.json()["id"]
        async with self.container() as scope:
            uow = await scope.get(UnitOfWork)
            domain = await uow.domains.get(AccountNumber(tenant.account), domain_id)
            domain.mark_verified(VerificationReport(checked_at=datetime.now(UTC)))
            await uow.domains.save(domain)
            await uow.commit()
        return domain_id

    async def api_key(self, owner: dict[str, str], client_id: int) -> tuple[int, str]:
        response = await self.console(
            "POST", f"/api/v1/llm-clients/{client_id}/api-keys/", owner, json={"name": "web"}
        )
        assert response.status_code == 201, response.text
        return response.json()["id"], response.json()["api_key"]

    def openai(self, host: str, api_key: str = "unused") -> openai.AsyncOpenAI:
        """The real SDK, pointed at a client host."""

        async def seen(response: httpx2.Response) -> None:
            self.statuses.append(response.status_code)

        sdk = openai.AsyncOpenAI(
            base_url=f"http://{host}/v1",
            api_key=api_key,
            max_retries=0,
            timeout=10,
            http_client=httpx2.AsyncClient(transport=Loopback(), event_hooks={"response": [seen]}),
        )
        self.sdk_clients.append(sdk)
        return sdk

    async def drain(self) -> None:
        await (await self.container.get(ChatRecorder)).drain()


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@asynccontextmanager
async def running_smarter(
    database_url: str, upstream: OpenAITestServer, **overrides: Any
) -> AsyncIterator[Smarter]:
    """The app on a free loopback port (which is also its local port, as hosts require)."""
    await empty_database(database_url)
    sock = _listening_socket()
    port = sock.getsockname()[1]
    providers = {
        "local": {"base_url": upstream.base_url, "api_key": UPSTREAM_KEY, "timeout": str(TIMEOUT)}
    }
    settings = Settings(
        database_url=database_url,
        local_port=port,
        port=port,
        demo=False,
        llm_providers=providers,
        **overrides,
    )
    container = make_container(settings)
    app = create_app(settings, container)
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    assert server.started, "the app did not start"
    statuses: list[int] = []

    async def seen(response: httpx.Response) -> None:
        statuses.append(response.status_code)

    http = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=10, event_hooks={"response": [seen]}
    )
    smarter = Smarter(settings, container, http, statuses)
    try:
        yield smarter
    finally:
        await http.aclose()
        for sdk in smarter.sdk_clients:
            await sdk.close()
        server.should_exit = True
        await task
        sock.close()
    assert 500 not in statuses, f"a request was answered with 500: {statuses}"


@pytest.fixture
async def smarter(chat_database: str, upstream: OpenAITestServer) -> AsyncIterator[Smarter]:
    async with running_smarter(chat_database, upstream) as running:
        yield running


@pytest.fixture
async def tenant(smarter: Smarter) -> Tenant:
    return await smarter.tenant()
