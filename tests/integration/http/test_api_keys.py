"""`/api/v1/llm-clients/{id}/api-keys/`: plaintext once, prefixes in lists, revocation."""

from __future__ import annotations

from tests.integration.http.conftest import Api, Tenant
from tests.integration.http.test_llm_clients import CLIENTS, create


async def test_a_key_is_shown_once_and_listed_by_its_prefix(api: Api, tenant: Tenant) -> None:
    client = await create(api, tenant.member, name="example")
    keys = f"{CLIENTS}/{client['id']}/api-keys/"

    created = await api.client.post(keys, json={"name": "website"}, headers=tenant.member)
    listed = await api.client.get(keys, headers=tenant.member)
    now = await api.client.get(f"{CLIENTS}/{client['id']}/", headers=tenant.member)

    assert created.status_code == 201
    key = created.json()
    assert key["api_key"].startswith("smt_key_")
    assert key["api_key"].startswith(key["prefix"])
    assert key["prefix"] != key["api_key"]
    assert (key["name"], key["llm_client_id"], key["active"]) == ("website", client["id"], True)
    assert listed.status_code == 200
    assert [k["id"] for k in listed.json()] == [key["id"]]
    assert key["api_key"] not in listed.text
    assert "api_key" not in listed.json()[0]
    assert now.json()["is_authentication_required"] is True


async def test_a_revoked_key_no_longer_requires_authentication(api: Api, tenant: Tenant) -> None:
    client = await create(api, tenant.admin, name="example")
    keys = f"{CLIENTS}/{client['id']}/api-keys"
    key = (await api.client.post(keys, json={"name": "k"}, headers=tenant.admin)).json()

    revoked = await api.client.delete(f"{keys}/{key['id']}/", headers=tenant.admin)
    again = await api.client.delete(f"{keys}/{key['id']}", headers=tenant.admin)
    now = await api.client.get(f"{CLIENTS}/{client['id']}/", headers=tenant.admin)

    assert revoked.status_code == 200
    assert revoked.json()["active"] is False
    assert again.status_code == 200
    assert now.json()["is_authentication_required"] is False


async def test_a_key_of_another_client_is_404(api: Api, tenant: Tenant) -> None:
    first = await create(api, tenant.admin, name="first")
    second = await create(api, tenant.admin, name="second")
    key = (
        await api.client.post(
            f"{CLIENTS}/{first['id']}/api-keys/", json={"name": "k"}, headers=tenant.admin
        )
    ).json()

    response = await api.client.delete(
        f"{CLIENTS}/{second['id']}/api-keys/{key['id']}/", headers=tenant.admin
    )

    assert response.status_code == 404


async def test_a_key_needs_a_name(api: Api, tenant: Tenant) -> None:
    client = await create(api, tenant.admin, name="example")

    for body in ({}, {"name": ""}, {"name": "x" * 101}):
        response = await api.client.post(
            f"{CLIENTS}/{client['id']}/api-keys/", json=body, headers=tenant.admin
        )
        assert response.status_code == 400, body
        assert response.json()["field"] == "name"
