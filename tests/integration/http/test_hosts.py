"""The host gate: which Host headers reach the console API, and what the others get."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Request, get

from smarter.domain.environments import Environment
from smarter.entrypoints.http.app import create_app
from smarter.entrypoints.http.host_gate import resolved_host_of
from smarter.entrypoints.settings import Settings
from smarter.entrypoints.wiring import make_container
from tests.fakes import FakeClock, FakeUnitOfWork
from tests.integration.http.conftest import Api, FakesProvider, Tenant, client_for


async def get_with_host(api: Api, path: str, host: str, **kwargs: Any) -> Any:
    return await api.client.get(path, headers={"host": host, **kwargs.pop("headers", {})})


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("evil.example.com", "not a host of the platform domain"),
        ("testserver.local", ""),
        ("localhost:8080", "port 8080 is not the local port 9357"),
        ("x.1234-5678.api.localhost:9357", "not an account number"),
        ("bad_host!", ""),
        ("", ""),
    ],
)
async def test_an_invalid_host_gets_400_with_the_router_reason(
    api: Api, host: str, reason: str
) -> None:
    response = await get_with_host(api, "/api/v1/account", host)

    assert response.status_code == 400
    body = response.json()
    assert body["status_code"] == 400
    assert body["detail"].startswith("invalid host")
    assert reason in body["detail"]
    assert body["field"] is None


async def test_an_unknown_path_on_an_invalid_host_is_refused_before_routing(api: Api) -> None:
    response = await get_with_host(api, "/no/such/route", "evil.example.com")

    assert response.status_code == 400


@pytest.mark.parametrize(
    "host",
    ["alpha.platform.example.com", "api.example.com", "x.1234-5678-9012.beta.api.example.com"],
)
async def test_a_host_of_another_environment_gets_400(api: Api, host: str) -> None:
    response = await get_with_host(api, "/api/v1/account", host)

    assert response.status_code == 400
    assert "environment, this is local" in response.json()["detail"]


@pytest.mark.parametrize(
    "host",
    [
        "example.1234-5678-9012.api.localhost:9357",
        "example.1234-5678-9012.api.local.example.com",
        "bot.customer-domain.com",
    ],
)
async def test_client_and_custom_domain_hosts_get_404_json_for_now(api: Api, host: str) -> None:
    for path in ("/", "/api/v1/account", "/api/docs"):
        response = await get_with_host(api, path, host)

        assert response.status_code == 404
        assert response.json()["status_code"] == 404


@pytest.mark.parametrize(
    "host", ["10.0.3.7:8080", "evil.example.org", "alpha.platform.example.com", ""]
)
async def test_healthz_answers_on_any_host(api: Api, host: str) -> None:
    response = await get_with_host(api, "/healthz", host)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "host", ["localhost:9357", "127.0.0.1:9357", "api.localhost:9357", "LOCALHOST:9357"]
)
async def test_console_and_api_hosts_of_the_environment_serve_the_api(
    api: Api, tenant: Tenant, host: str
) -> None:
    response = await get_with_host(api, "/api/v1/account", host, headers=tenant.admin)

    assert response.status_code == 200
    assert response.json()["account_number"] == tenant.account_number


async def test_the_api_domain_stand_in_of_local_serves_the_api(api: Api, tenant: Tenant) -> None:
    response = await get_with_host(api, "/api/v1/account", "api.local.example.com")

    assert response.status_code == 401


async def test_the_prod_console_host_serves_the_api_in_prod(
    uow: FakeUnitOfWork, clock: FakeClock
) -> None:
    settings = Settings(environment=Environment.PROD)
    app = create_app(settings, make_container(settings, FakesProvider(uow, clock)))
    async with client_for(app, "https://platform.example.com") as client:
        assert (await client.get("/api/v1/hosts/resolve?host=api.example.com")).status_code == 200
        refused = await client.get("/api/v1/account", headers={"host": "localhost:9357"})
        assert refused.status_code == 400


async def test_the_resolved_host_is_kept_for_the_routes(settings: Settings, container: Any) -> None:
    @get("/probe", sync_to_thread=False)
    def probe(request: Request[Any, Any, Any]) -> dict[str, Any]:
        resolved = resolved_host_of(request)
        assert resolved is not None
        return {"kind": resolved.kind, "environment": resolved.environment}

    app = create_app(settings, container)
    app.register(probe)
    async with client_for(app) as client:
        response = await client.get("/probe", headers={"host": "api.localhost:9357"})

    assert response.json() == {"kind": "api", "environment": "local"}


async def test_the_host_diagnostic_is_public(api: Api) -> None:
    response = await api.client.get(
        "/api/v1/hosts/resolve", params={"host": "Example.1234-5678-9012.api.localhost:9357"}
    )

    assert response.status_code == 200
    assert response.json()["kind"] == "client"
    assert response.json()["account_number"] == "1234-5678-9012"
