"""The probes over the real database and Redis: `/readyz` is 200 when the database is reachable
and migrated to this release's head (and Redis answers, when configured), else 503 naming the
failing check; both probes answer on any host. `/metrics` answers on the pod's address, and on
public hosts only in `local`."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from smarter.adapters.sql.database import make_engine
from smarter.adapters.sql.migrations import alembic_config
from smarter.domain.environments import Environment
from smarter.entrypoints.http.app import create_app
from smarter.entrypoints.settings import Settings
from smarter.entrypoints.wiring import make_container
from tests.fakes import FakeClock, FakeUnitOfWork
from tests.integration.conftest import fresh_database, run_in_thread
from tests.integration.http.conftest import FakesProvider, client_for

REDIS = "redis://127.0.0.1:6379/0"
HEAD = ScriptDirectory.from_config(alembic_config("")).get_current_head()
ANY_HOSTS = ["localhost:9357", "10.0.3.7:8000", "evil.example.org", ""]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def app_on(database_url: str, redis_url: str | None = None) -> AsyncIterator[Any]:
    settings = Settings(database_url=database_url, redis_url=redis_url)
    async with client_for(create_app(settings, make_container(settings))) as client:
        yield client


async def readyz(
    database_url: str, redis_url: str | None = None, host: str = ""
) -> tuple[int, dict[str, Any]]:
    async with app_on(database_url, redis_url) as client:
        response = await client.get("/readyz", headers={"host": host} if host else {})
        return response.status_code, response.json()


@pytest.mark.parametrize("host", ANY_HOSTS)
async def test_readyz_is_200_on_a_migrated_database_on_any_host(
    database_url: str, host: str
) -> None:
    status, body = await readyz(database_url, host=host)

    assert (status, body) == (
        200,
        {"status": "ready", "checks": {"database": "ok"}, "detail": None},
    )


async def test_readyz_checks_redis_when_the_platform_uses_it(database_url: str) -> None:
    status, body = await readyz(database_url, REDIS)

    assert status == 200
    assert body["checks"] == {"database": "ok", "redis": "ok"}


async def test_readyz_is_503_naming_redis_when_redis_does_not_answer(database_url: str) -> None:
    status, body = await readyz(database_url, f"redis://127.0.0.1:{closed_port()}/0")

    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("unreachable: ConnectionError")
    assert body["detail"].startswith("not ready: redis: unreachable")


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
async def test_readyz_is_503_naming_the_database_until_it_is_migrated(
    dialect: str, tmp_path: Path
) -> None:
    with fresh_database(dialect, tmp_path, migrate=False) as url:
        status, body = await readyz(url)
        assert status == 503
        assert body["checks"] == {
            "database": "not migrated: the database has no schema (run `smarter db upgrade`)"
        }

        run_in_thread(command.upgrade, alembic_config(url), "0001")
        status, body = await readyz(url)
        assert status == 503
        assert body["detail"] == (
            f"not ready: database: not migrated: at 0001, this release needs {HEAD}"
            " (run `smarter db upgrade`)"
        )

        run_in_thread(command.upgrade, alembic_config(url), "head")
        assert (await readyz(url))[0] == 200


async def test_readyz_stays_200_when_a_later_release_migrated_the_database(
    database_url: str,
) -> None:
    async def set_revision(revision: str) -> None:
        engine = make_engine(database_url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text("UPDATE alembic_version SET version_num = :revision"),
                    {"revision": revision},
                )
        finally:
            await engine.dispose()

    await set_revision("f00d")  # a revision this release does not know
    try:
        status, _ = await readyz(database_url)
    finally:
        await set_revision(str(HEAD))

    assert status == 200


async def test_readyz_is_503_naming_the_database_when_it_cannot_be_reached() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/smarter"

    status, body = await readyz(url)

    assert status == 503
    assert body["checks"]["database"].startswith("unreachable: ")


async def metrics_status(environment: Environment, host: str) -> int:
    settings = Settings(environment=environment)
    container = make_container(settings, FakesProvider(FakeUnitOfWork(), FakeClock()))
    async with client_for(create_app(settings, container)) as client:
        response = await client.get("/metrics", headers={"host": host})
        if response.status_code == 200:
            assert "smarter_http_requests_total" in response.text
        return response.status_code


@pytest.mark.parametrize("host", ["10.0.3.7:8000", "[fd00::7]:8000", ""])
async def test_metrics_are_served_on_the_pods_address(host: str) -> None:
    assert await metrics_status(Environment.ALPHA, host) == 200


@pytest.mark.parametrize(
    "host",
    [
        "alpha.platform.example.com",
        "alpha.api.example.com",
        "x.1234-5678-9012.alpha.api.example.com",
    ],
)
async def test_metrics_are_not_served_on_the_platforms_public_hosts(host: str) -> None:
    assert await metrics_status(Environment.ALPHA, host) == 404


async def test_metrics_are_served_on_the_console_host_in_local() -> None:
    assert await metrics_status(Environment.LOCAL, "localhost:9357") == 200
