"""`/api/v1/custom-domains/`: register, list, read, verify, delete (admins change them)."""

from __future__ import annotations

import pytest

from tests.fakes import FakeUnitOfWork, jobs
from tests.integration.http.conftest import Api, Tenant
from tests.integration.http.test_llm_clients import CLIENTS, create

DOMAINS = "/api/v1/custom-domains"


async def test_an_admin_registers_a_domain_and_sees_what_to_set(
    api: Api, tenant: Tenant, uow: FakeUnitOfWork
) -> None:
    response = await api.client.post(
        f"{DOMAINS}/", json={"domain_name": "Bots.Customer.COM."}, headers=tenant.admin
    )

    assert response.status_code == 201
    domain = response.json()
    assert domain["domain_name"] == "bots.customer.com"
    assert domain["is_verified"] is False
    assert domain["marker_name"] == "_smarter.bots.customer.com"
    assert domain["name_servers"] == []
    assert domain["ns_records_to_set"] == []
    assert domain["last_verification"] is None
    assert jobs(uow.outbox) == [f'{{"type":"VerifyCustomDomain","domain_id":{domain["id"]}}}']
    read = await api.client.get(f"{DOMAINS}/{domain['id']}/", headers=tenant.member)
    listed = await api.client.get(f"{DOMAINS}/", headers=tenant.member)
    assert read.json() == domain
    assert listed.json() == [domain]


async def test_verification_is_requested_again_on_demand(
    api: Api, tenant: Tenant, uow: FakeUnitOfWork
) -> None:
    domain = (
        await api.client.post(
            f"{DOMAINS}/", json={"domain_name": "customer.com"}, headers=tenant.admin
        )
    ).json()

    response = await api.client.post(f"{DOMAINS}/{domain['id']}/verify/", headers=tenant.admin)

    assert response.status_code == 202
    assert response.json()["id"] == domain["id"]
    assert len(uow.outbox.committed) == 2


@pytest.mark.parametrize("name", ["localhost", "not a domain", "-bad.com", "a..b.com", ""])
async def test_an_invalid_domain_is_422_naming_the_field(
    api: Api, tenant: Tenant, name: str
) -> None:
    response = await api.client.post(
        f"{DOMAINS}/", json={"domain_name": name}, headers=tenant.admin
    )

    assert response.status_code == 422
    assert response.json()["field"] == "domain_name"


async def test_the_same_domain_twice_in_one_account_is_a_conflict(api: Api, tenant: Tenant) -> None:
    body = {"domain_name": "customer.com"}
    await api.client.post(f"{DOMAINS}/", json=body, headers=tenant.admin)

    response = await api.client.post(f"{DOMAINS}/", json=body, headers=tenant.admin)

    assert response.status_code == 409


async def test_a_member_may_read_but_not_change_domains(api: Api, tenant: Tenant) -> None:
    domain = (
        await api.client.post(
            f"{DOMAINS}/", json={"domain_name": "customer.com"}, headers=tenant.admin
        )
    ).json()

    register = await api.client.post(
        f"{DOMAINS}/", json={"domain_name": "other.com"}, headers=tenant.member
    )
    verify = await api.client.post(f"{DOMAINS}/{domain['id']}/verify/", headers=tenant.member)
    delete = await api.client.delete(f"{DOMAINS}/{domain['id']}/", headers=tenant.member)

    assert [register.status_code, verify.status_code, delete.status_code] == [403, 403, 403]


async def test_a_domain_in_use_cannot_be_deleted_until_detached(api: Api, tenant: Tenant) -> None:
    domain = (
        await api.client.post(
            f"{DOMAINS}/", json={"domain_name": "customer.com"}, headers=tenant.admin
        )
    ).json()
    client = await create(api, tenant.admin, name="example")
    choice = f"{CLIENTS}/{client['id']}/custom-domain/"
    await api.client.put(choice, json={"custom_domain_id": domain["id"]}, headers=tenant.admin)

    in_use = await api.client.delete(f"{DOMAINS}/{domain['id']}/", headers=tenant.admin)
    await api.client.put(choice, json={"custom_domain_id": None}, headers=tenant.admin)
    deleted = await api.client.delete(f"{DOMAINS}/{domain['id']}", headers=tenant.admin)
    gone = await api.client.get(f"{DOMAINS}/{domain['id']}/", headers=tenant.admin)

    assert in_use.status_code == 409
    assert deleted.status_code == 204
    assert gone.status_code == 404
