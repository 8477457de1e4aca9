"""The console API over the real SQL adapter, on SQLite and on PostgreSQL.

The app is built by `wiring.make_container(Settings(database_url=...))` exactly as in
production; `database_url` (tests/integration/conftest.py) is a migrated, emptied database
of each dialect.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from smarter.entrypoints.http.app import create_app
from smarter.entrypoints.settings import Settings
from smarter.entrypoints.wiring import make_container
from tests.integration.http.conftest import BASE_URL, Api, client_for
from tests.integration.http.isolation import run_isolation_matrix

V1 = "/api/v1"


@pytest.fixture
async def sql_api(database_url: str) -> AsyncIterator[Api]:
    settings = Settings(database_url=database_url)
    container = make_container(settings)
    async with client_for(create_app(settings, container)) as client:
        yield Api(client, container)


async def test_tenants_are_isolated_on_the_real_database(sql_api: Api) -> None:
    await run_isolation_matrix(sql_api)


async def test_a_client_goes_through_its_whole_life_on_the_real_database(sql_api: Api) -> None:
    api = sql_api
    tenant = await api.new_tenant("3141-5926-5359")
    admin = tenant.admin

    created = await api.request(
        "POST",
        f"{V1}/llm-clients/",
        headers=admin,
        json={
            "name": "example",
            "tags": ["a"],
            "annotations": {"team": "support"},
            "app_example_prompts": ["Hi?"],
            "app_info_url": "https://example.org/",
        },
    )
    assert created.status_code == 201, created.text
    client = created.json()
    path = f"{V1}/llm-clients/{client['id']}/"
    assert client["default_url"] == "http://example.3141-5926-5359.api.local.example.com"

    read = await api.request("GET", path, headers=admin)
    assert read.json() == client

    patched = await api.request(
        "PATCH", path, headers=admin, json={"description": "changed", "tags": ["a", "b"]}
    )
    assert patched.status_code == 200
    assert (patched.json()["description"], patched.json()["tags"]) == ("changed", ["a", "b"])
    assert (await api.request("GET", path, headers=admin)).json()["description"] == "changed"

    key = await api.request("POST", f"{path}api-keys/", headers=admin, json={"name": "web"})
    assert key.status_code == 201
    assert (await api.request("GET", path, headers=admin)).json()["is_authentication_required"]

    domain = await api.request(
        "POST", f"{V1}/custom-domains/", headers=admin, json={"domain_name": "customer.com"}
    )
    attached = await api.request(
        "PUT",
        f"{path}custom-domain/",
        headers=admin,
        json={"custom_domain_id": domain.json()["id"]},
    )
    assert attached.json()["custom_host"] == "example.customer.com"

    deployed = await api.request("POST", f"{path}deploy/", headers=admin)
    assert deployed.status_code == 202
    assert deployed.json()["deployed"] is True
    status = (await api.request("GET", f"{path}status/", headers=admin)).json()
    assert [e["to_status"] for e in status["events"]] == ["true"]

    listed = await api.request("GET", f"{V1}/llm-clients/?deployed=true&tag=b", headers=admin)
    assert [c["id"] for c in listed.json()["items"]] == [client["id"]]

    manifest = await api.request("GET", f"{V1}/manifests/{client['id']}/", headers=admin)
    reapplied = await api.request(
        "POST",
        f"{V1}/manifests/",
        content=manifest.text,
        headers={**admin, "content-type": "application/yaml"},
    )
    assert reapplied.status_code == 200, reapplied.text
    assert reapplied.json()["id"] == client["id"]

    clone = await api.request("POST", f"{path}clone/", headers=admin)
    assert clone.status_code == 201
    assert clone.json()["name"] == "example-copy"

    assert (await api.request("POST", f"{path}undeploy/", headers=admin)).status_code == 202
    await api.request(
        "PUT", f"{path}custom-domain/", headers=admin, json={"custom_domain_id": None}
    )
    deleted = await api.request("DELETE", path, headers=admin)
    assert deleted.status_code == 204, deleted.text
    assert (await api.request("GET", path, headers=admin)).status_code == 404


async def test_awkward_values_are_refused_or_stored_never_a_500(sql_api: Api) -> None:
    api = sql_api
    tenant = await api.new_tenant("2718-2818-2845")
    bodies = [
        {"name": "nul", "description": "a\u0000b"},
        {"name": "long", "description": "x" * 100_000},
        {"name": "emoji", "app_name": "🤖" * 1000, "annotations": {"k": "v" * 10_000}},
        {"name": "big", "default_max_tokens": 2**63},
        {"name": "x" * 128},
        {"name": "tags", "tags": ["t" * 64] * 200},
    ]
    for body in bodies:
        response = await api.request("POST", f"{V1}/llm-clients/", headers=tenant.admin, json=body)
        assert response.status_code < 500, (str(body)[:60], response.text)
    token = await api.request(
        "POST", f"{V1}/tokens/", headers=tenant.admin, json={"name": "n\u0000ul"}
    )
    user = await api.request(
        "POST",
        f"{V1}/users/",
        headers=tenant.admin,
        json={"username": "u1", "email": "e" * 10_000 + "\u0000"},
    )
    domain = await api.request(
        "POST", f"{V1}/custom-domains/", headers=tenant.admin, json={"domain_name": "a" * 300}
    )
    manifest = await api.request(
        "POST",
        f"{V1}/manifests/",
        content='apiVersion: smarter.sh/v1\nkind: LLMClient\nmetadata: {name: y, x: "\\0"}',
        headers={**tenant.admin, "content-type": "application/yaml"},
    )
    search = await api.request("GET", f"{V1}/llm-clients/?name=%00", headers=tenant.admin)
    far = await api.request(
        "GET", f"{V1}/llm-clients/?offset={2**63 - 1}&limit=200&name=%25_", headers=tenant.admin
    )
    huge_id = await api.request("GET", f"{V1}/llm-clients/{2**63 - 1}/", headers=tenant.admin)
    assert far.json()["items"] == []
    assert huge_id.status_code == 404
    for response in (token, user, domain, manifest, search, far):
        assert response.status_code < 500, response.text


async def test_concurrent_creates_of_one_name_make_one_client_and_conflicts(
    sql_api: Api,
) -> None:
    tenant = await sql_api.new_tenant("1618-0339-8874")
    transport = httpx.ASGITransport(app=sql_api.client.app)

    async def race() -> list[int]:
        # On the app's own loop, so that the six requests really run at the same time.
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            responses = await asyncio.gather(
                *(
                    client.post(f"{V1}/llm-clients/", headers=tenant.admin, json={"name": "race"})
                    for _ in range(6)
                )
            )
        return sorted(response.status_code for response in responses)

    assert await sql_api.in_app_loop(race) == [201, 409, 409, 409, 409, 409]
