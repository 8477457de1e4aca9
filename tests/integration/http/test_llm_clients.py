"""`/api/v1/llm-clients/`: CRUD, list filters, clone, deploy, undeploy, status, custom domain."""

from __future__ import annotations

from typing import Any

from smarter.application.views import COMPUTED_FIELDS
from smarter.domain.hashed_id import encode_hashed_id
from tests.integration.http.conftest import Api, Tenant

CLIENTS = "/api/v1/llm-clients"


async def create(api: Api, headers: dict[str, str], **spec: Any) -> dict[str, Any]:
    response = await api.client.post(f"{CLIENTS}/", json=spec, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_created_client_shows_its_id_and_every_computed_field(
    api: Api, tenant: Tenant
) -> None:
    client = await create(
        api,
        tenant.admin,
        name="example",
        description="A bot",
        tags=["support"],
        app_info_url="https://example.org/about",
    )

    assert client["id"] >= 1
    assert client["hashed_id"] == encode_hashed_id(client["id"])
    for field in (
        *COMPUTED_FIELDS,
        "deployed",
        "dns_verification_status",
        "tls_certificate_issuance_status",
    ):
        assert field in client, field
    number = tenant.account_number
    assert client["default_host"] == f"example.{number}.api.local.example.com"
    assert client["default_url"] == f"http://example.{number}.api.local.example.com"
    assert client["sandbox_url"] == (
        f"http://localhost:9357/workbench/llm-clients/{client['hashed_id']}/"
    )
    assert client["url_llm_client"] == (
        f"http://localhost:9357/api/v1/llm-clients/{client['id']}/prompt/"
    )
    assert client["deployed"] is False
    assert client["dns_verification_status"] == "Not Verified"
    assert client["tls_certificate_issuance_status"] == "No Certificate"
    assert client["ready"] is True
    assert client["is_authentication_required"] is False
    assert client["account_number"] == number
    assert client["owner_username"] == "admin"


async def test_a_members_client_gets_the_username_label(api: Api, tenant: Tenant) -> None:
    client = await create(api, tenant.member, name="helper")

    assert client["rfc1034_compliant_name"] == "helper.member"


async def test_a_client_is_read_with_or_without_the_trailing_slash(
    api: Api, tenant: Tenant
) -> None:
    client = await create(api, tenant.admin, name="example")

    for path in (f"{CLIENTS}/{client['id']}/", f"{CLIENTS}/{client['id']}"):
        response = await api.client.get(path, headers=tenant.admin)
        assert response.status_code == 200
        assert response.json() == client


async def test_a_name_taken_in_the_account_is_a_conflict(api: Api, tenant: Tenant) -> None:
    await create(api, tenant.admin, name="example")

    response = await api.client.post(f"{CLIENTS}/", json={"name": "example"}, headers=tenant.admin)

    assert response.status_code == 409
    assert response.json()["status_code"] == 409


async def test_the_list_pages_and_filters(api: Api, tenant: Tenant) -> None:
    for index in range(5):
        await create(api, tenant.admin, name=f"bot{index}", tags=["even"] if index % 2 else [])
    await create(api, tenant.admin, name="other")

    page = (await api.client.get(f"{CLIENTS}/?offset=1&limit=2", headers=tenant.admin)).json()
    assert [c["name"] for c in page["items"]] == ["bot1", "bot2"]
    assert (page["total"], page["offset"], page["limit"]) == (6, 1, 2)

    named = (await api.client.get(f"{CLIENTS}?name=bot", headers=tenant.admin)).json()
    assert named["total"] == 5
    tagged = (await api.client.get(f"{CLIENTS}?tag=even", headers=tenant.admin)).json()
    assert [c["name"] for c in tagged["items"]] == ["bot1", "bot3"]
    await api.client.post(f"{CLIENTS}/{page['items'][0]['id']}/deploy/", headers=tenant.admin)
    deployed = (await api.client.get(f"{CLIENTS}?deployed=true", headers=tenant.admin)).json()
    assert [c["name"] for c in deployed["items"]] == ["bot1"]
    default = (await api.client.get(f"{CLIENTS}/", headers=tenant.admin)).json()
    assert (default["offset"], default["limit"]) == (0, 50)


async def test_a_member_lists_only_their_own_clients_and_an_admin_all(
    api: Api, tenant: Tenant
) -> None:
    await create(api, tenant.admin, name="admins")
    await create(api, tenant.member, name="members")

    member = (await api.client.get(f"{CLIENTS}/", headers=tenant.member)).json()
    admin = (await api.client.get(f"{CLIENTS}/", headers=tenant.admin)).json()

    assert [c["name"] for c in member["items"]] == ["members"]
    assert member["total"] == 1
    assert sorted(c["name"] for c in admin["items"]) == ["admins", "members"]


async def test_a_member_cannot_see_the_admins_client_but_the_admin_sees_theirs(
    api: Api, tenant: Tenant
) -> None:
    admins = await create(api, tenant.admin, name="admins")
    members = await create(api, tenant.member, name="members")

    hidden = await api.client.get(f"{CLIENTS}/{admins['id']}/", headers=tenant.member)
    visible = await api.client.get(f"{CLIENTS}/{members['id']}/", headers=tenant.admin)

    assert hidden.status_code == 404
    assert "admins" not in hidden.text
    assert visible.status_code == 200


async def test_patch_changes_only_the_named_fields(api: Api, tenant: Tenant) -> None:
    client = await create(api, tenant.admin, name="example", description="old", tags=["a"])

    response = await api.client.patch(
        f"{CLIENTS}/{client['id']}/",
        json={"description": "new", "default_temperature": 1, "app_logo_url": None},
        headers=tenant.admin,
    )

    assert response.status_code == 200
    body = response.json()
    assert body["description"] == "new"
    assert body["default_temperature"] == 1.0
    assert body["tags"] == ["a"]
    assert body["name"] == "example"


async def test_a_rename_moves_the_hosts_and_cannot_take_another_clients_name(
    api: Api, tenant: Tenant
) -> None:
    client = await create(api, tenant.admin, name="example")
    await create(api, tenant.admin, name="taken")

    renamed = await api.client.patch(
        f"{CLIENTS}/{client['id']}/", json={"name": "renamed"}, headers=tenant.admin
    )
    clash = await api.client.patch(
        f"{CLIENTS}/{client['id']}/", json={"name": "taken"}, headers=tenant.admin
    )

    assert renamed.json()["default_host"].startswith("renamed.")
    assert clash.status_code == 409


async def test_delete_removes_an_undeployed_client(api: Api, tenant: Tenant) -> None:
    client = await create(api, tenant.admin, name="example")

    response = await api.client.delete(f"{CLIENTS}/{client['id']}/", headers=tenant.admin)

    assert response.status_code == 204
    assert response.content == b""
    gone = await api.client.get(f"{CLIENTS}/{client['id']}/", headers=tenant.admin)
    assert gone.status_code == 404


async def test_a_deployed_client_is_gone_at_once_and_torn_down_later(
    api: Api, tenant: Tenant
) -> None:
    client = await create(api, tenant.admin, name="example")
    await api.client.post(f"{CLIENTS}/{client['id']}/deploy/", headers=tenant.admin)

    response = await api.client.delete(f"{CLIENTS}/{client['id']}/", headers=tenant.admin)

    assert response.status_code == 204
    gone = await api.client.get(f"{CLIENTS}/{client['id']}/", headers=tenant.admin)
    assert gone.status_code == 404


async def test_clone_copies_the_settings_under_a_new_name(api: Api, tenant: Tenant) -> None:
    client = await create(api, tenant.admin, name="example", description="d", version="1.2.3")
    await api.client.post(f"{CLIENTS}/{client['id']}/deploy/", headers=tenant.admin)

    default = await api.client.post(f"{CLIENTS}/{client['id']}/clone/", headers=tenant.admin)
    named = await api.client.post(
        f"{CLIENTS}/{client['id']}/clone/",
        json={"name": "second", "version": "2.0.0"},
        headers=tenant.admin,
    )
    again = await api.client.post(f"{CLIENTS}/{client['id']}/clone/", headers=tenant.admin)

    assert default.status_code == 201
    assert default.json()["name"] == "example-copy"
    assert default.json()["description"] == "d"
    assert default.json()["deployed"] is False
    assert default.json()["id"] != client["id"]
    assert (named.json()["name"], named.json()["version"]) == ("second", "2.0.0")
    assert again.status_code == 409


async def test_a_clone_with_an_invalid_name_is_422(api: Api, tenant: Tenant) -> None:
    client = await create(api, tenant.admin, name="example")

    response = await api.client.post(
        f"{CLIENTS}/{client['id']}/clone/", json={"name": "9lives"}, headers=tenant.admin
    )

    assert response.status_code == 422
    assert response.json()["field"] == "name"


async def test_deploy_and_undeploy_are_accepted_and_recorded_in_the_timeline(
    api: Api, tenant: Tenant
) -> None:
    client = await create(api, tenant.admin, name="example")

    deployed = await api.client.post(f"{CLIENTS}/{client['id']}/deploy/", headers=tenant.admin)
    again = await api.client.post(f"{CLIENTS}/{client['id']}/deploy", headers=tenant.admin)
    status = await api.client.get(f"{CLIENTS}/{client['id']}/status/", headers=tenant.admin)

    assert deployed.status_code == 202
    assert deployed.json()["deployed"] is True
    assert deployed.json()["url"] == deployed.json()["default_url"]
    assert deployed.json()["ready"] is False
    assert again.status_code == 202
    body = status.json()
    assert status.status_code == 200
    assert body["id"] == client["id"]
    assert body["deployed"] is True
    assert body["ready"] is False
    assert body["dns_verification_status"] == "Not Verified"
    assert body["default_url"] == client["default_url"]
    assert body["sandbox_url"] == client["sandbox_url"]
    assert [(e["field"], e["from_status"], e["to_status"]) for e in body["events"]] == [
        ("deployed", "false", "true")
    ]

    undeployed = await api.client.post(f"{CLIENTS}/{client['id']}/undeploy/", headers=tenant.admin)
    assert undeployed.status_code == 202
    assert undeployed.json()["deployed"] is False
    events = await api.client.get(f"{CLIENTS}/{client['id']}/status/", headers=tenant.admin)
    assert len(events.json()["events"]) == 2


async def test_a_custom_domain_is_attached_and_detached(api: Api, tenant: Tenant) -> None:
    client = await create(api, tenant.admin, name="example")
    domain = await api.client.post(
        "/api/v1/custom-domains/",
        json={"domain_name": "bots.customer.com"},
        headers=tenant.admin,
    )

    attached = await api.client.put(
        f"{CLIENTS}/{client['id']}/custom-domain/",
        json={"custom_domain_id": domain.json()["id"]},
        headers=tenant.admin,
    )
    detached = await api.client.put(
        f"{CLIENTS}/{client['id']}/custom-domain/",
        json={"custom_domain_id": None},
        headers=tenant.admin,
    )

    assert attached.status_code == 200
    assert attached.json()["custom_domain"] == "bots.customer.com"
    assert attached.json()["custom_domain_id"] == domain.json()["id"]
    assert attached.json()["custom_host"] == "example.bots.customer.com"
    assert attached.json()["custom_url"] == "http://example.bots.customer.com"
    assert detached.json()["custom_host"] is None


async def test_an_unknown_custom_domain_cannot_be_attached(api: Api, tenant: Tenant) -> None:
    client = await create(api, tenant.admin, name="example")

    response = await api.client.put(
        f"{CLIENTS}/{client['id']}/custom-domain/",
        json={"custom_domain_id": 4242},
        headers=tenant.admin,
    )

    assert response.status_code == 404


async def test_an_unknown_client_is_404_on_every_route(api: Api, tenant: Tenant) -> None:
    for method, path in [
        ("GET", "/"),
        ("PATCH", "/"),
        ("DELETE", "/"),
        ("POST", "/clone/"),
        ("POST", "/deploy/"),
        ("POST", "/undeploy/"),
        ("GET", "/status/"),
    ]:
        response = await api.client.request(
            method,
            f"{CLIENTS}/77{path}",
            headers=tenant.admin,
            json={} if method == "PATCH" else None,
        )
        assert response.status_code == 404, (method, path, response.text)
