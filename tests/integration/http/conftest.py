"""The real Litestar app over the real binding table, with one shared FakeUnitOfWork.

`make_container(settings, FakesProvider(...))` swaps the SQL unit of work and the clock for
fakes at APP scope, so state persists across requests; everything else is the production
wiring. Tenants are created through the CreateAccount use case (there is no HTTP endpoint
for it: accounts are made by an operator), everything else through HTTP. The test client runs
the app on its own event loop in a portal thread; `Api.in_app_loop` runs code there.

test_sql_backends.py builds the same app on `make_container(Settings(database_url=...))`
with the `database_url` fixture of tests/integration/conftest.py (SQLite and PostgreSQL).
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import pytest
from dishka import AsyncContainer, Provider, Scope, provide
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from smarter.application.accounts import CreateAccount, CreatedAccount
from smarter.application.ports import Clock, UnitOfWork
from smarter.domain.account_number import AccountNumber
from smarter.entrypoints.http.app import create_app
from smarter.entrypoints.settings import Settings
from smarter.entrypoints.wiring import make_container
from tests.fakes import FakeClock, FakeUnitOfWork

BASE_URL = "http://localhost:9357"
T = TypeVar("T")


class FakesProvider(Provider):
    """The fakes, at APP scope: one unit of work for the whole app, as a store would be."""

    def __init__(self, uow: FakeUnitOfWork, clock: FakeClock) -> None:
        super().__init__()
        self._uow, self._clock = uow, clock

    @provide(scope=Scope.APP, override=True)
    def unit_of_work(self) -> UnitOfWork:
        return self._uow

    @provide(scope=Scope.APP, override=True)
    def clock(self) -> Clock:
        return self._clock


def token_header(token: str, scheme: str = "Token") -> dict[str, str]:
    return {"Authorization": f"{scheme} {token}"}


@dataclass
class Tenant:
    """An account with an admin and a non-admin member, each with a token."""

    account_number: str
    admin_id: int
    admin: dict[str, str]
    member_id: int
    member: dict[str, str]
    member_token_id: int


class Api:
    """The test client plus the container, to make accounts the way an operator does."""

    def __init__(self, client: AsyncTestClient[Litestar], container: AsyncContainer) -> None:
        self.client = client
        self.container = container

    async def request(self, method: str, path: str, **kwargs: Any) -> Response:
        return await self.client.request(method, path, **kwargs)

    async def in_app_loop(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work` on the event loop the app runs on (the client's portal thread), where
        the container's database engine lives."""
        return await anyio.to_thread.run_sync(self.client.blocking_portal.call, work)

    async def new_tenant(self, number: str, member: str = "member") -> Tenant:
        async def create_account() -> CreatedAccount:
            async with self.container() as request_scope:
                create = await request_scope.get(CreateAccount)
                return await create(name=f"account {number}", number=AccountNumber(number))

        created = await self.in_app_loop(create_account)
        admin = token_header(created.token.plaintext)
        response = await self.client.post(
            "/api/v1/users/", json={"username": member}, headers=admin
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert created.admin.id is not None
        return Tenant(
            account_number=number,
            admin_id=created.admin.id,
            admin=admin,
            member_id=body["id"],
            member=token_header(body["token"]),
            member_token_id=body["token_id"],
        )


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def container(settings: Settings, uow: FakeUnitOfWork, clock: FakeClock) -> AsyncContainer:
    return make_container(settings, FakesProvider(uow, clock))


def client_for(app: Litestar, base_url: str = BASE_URL) -> AsyncTestClient[Litestar]:
    with warnings.catch_warnings():
        # Litestar warns that a host without a dot "might cause issues"; it is our console host.
        warnings.filterwarnings("ignore", message="The base_url", category=UserWarning)
        return AsyncTestClient(app, base_url=base_url)


@pytest.fixture
async def api(settings: Settings, container: AsyncContainer) -> AsyncIterator[Api]:
    async with client_for(create_app(settings, container)) as client:
        yield Api(client, container)


@pytest.fixture
async def tenant(api: Api) -> Tenant:
    return await api.new_tenant("1111-2222-3333")


@pytest.fixture
async def other_tenant(api: Api) -> Tenant:
    return await api.new_tenant("4444-5555-6666", member="intruder")
