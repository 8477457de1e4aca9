"""`/api/v1/account`, `/api/v1/users/` and `/api/v1/tokens/`."""

from __future__ import annotations

from tests.integration.http.conftest import Api, Tenant, token_header


async def test_the_account_shows_its_number_and_who_is_calling(api: Api, tenant: Tenant) -> None:
    for path in ("/api/v1/account", "/api/v1/account/"):
        response = await api.client.get(path, headers=tenant.member)

        assert response.status_code == 200
        body = response.json()
        assert body["account_number"] == tenant.account_number
        assert body["name"] == f"account {tenant.account_number}"
        assert body["caller"] == {
            "user_id": tenant.member_id,
            "username": "member",
            "is_account_admin": False,
        }


async def test_an_admin_adds_a_user_who_gets_a_working_token_once(api: Api, tenant: Tenant) -> None:
    response = await api.client.post(
        "/api/v1/users/",
        json={"username": "dana", "email": "dana@example.com"},
        headers=tenant.admin,
    )

    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "dana"
    assert body["email"] == "dana@example.com"
    assert body["is_account_admin"] is False
    assert body["token"].startswith("smt_tok_")
    me = await api.client.get("/api/v1/account", headers=token_header(body["token"]))
    assert me.json()["caller"]["username"] == "dana"
    listed = await api.client.get("/api/v1/tokens/", headers=tenant.admin)
    assert body["token"] not in listed.text


async def test_users_are_listed_without_secrets(api: Api, tenant: Tenant) -> None:
    response = await api.client.get("/api/v1/users/", headers=tenant.member)

    assert response.status_code == 200
    users = response.json()
    assert [u["username"] for u in users] == ["admin", "member"]
    assert set(users[0]) == {"id", "username", "email", "is_account_admin", "created_at"}


async def test_a_non_admin_may_not_add_users(api: Api, tenant: Tenant) -> None:
    response = await api.client.post(
        "/api/v1/users/", json={"username": "eve"}, headers=tenant.member
    )

    assert response.status_code == 403
    assert "admin" in response.json()["detail"]


async def test_a_username_taken_in_the_account_is_a_conflict(api: Api, tenant: Tenant) -> None:
    response = await api.client.post(
        "/api/v1/users/", json={"username": "member"}, headers=tenant.admin
    )

    assert response.status_code == 409


async def test_an_invalid_username_is_422_naming_the_field(api: Api, tenant: Tenant) -> None:
    response = await api.client.post(
        "/api/v1/users/", json={"username": "Not Valid"}, headers=tenant.admin
    )

    assert response.status_code == 422
    assert response.json()["field"] == "username"


async def test_a_user_issues_lists_and_revokes_their_own_tokens(api: Api, tenant: Tenant) -> None:
    issued = await api.client.post(
        "/api/v1/tokens/", json={"name": "laptop"}, headers=tenant.member
    )
    assert issued.status_code == 201
    token = issued.json()
    assert token["name"] == "laptop"
    assert token["user_id"] == tenant.member_id
    assert token["active"] is True
    assert token["token"].startswith(token["prefix"])

    listed = (await api.client.get("/api/v1/tokens/", headers=tenant.member)).json()
    assert {t["id"] for t in listed} == {tenant.member_token_id, token["id"]}
    assert all("token" not in t and "digest" not in t for t in listed)
    assert token["token"] not in str(listed)

    revoked = await api.client.delete(f"/api/v1/tokens/{token['id']}", headers=tenant.member)
    assert revoked.status_code == 200
    assert revoked.json()["active"] is False
    assert revoked.json()["revoked_at"] is not None


async def test_an_admin_sees_every_token_and_a_member_only_their_own(
    api: Api, tenant: Tenant
) -> None:
    admin_view = (await api.client.get("/api/v1/tokens/", headers=tenant.admin)).json()
    member_view = (await api.client.get("/api/v1/tokens/", headers=tenant.member)).json()

    assert {t["user_id"] for t in admin_view} == {tenant.admin_id, tenant.member_id}
    assert {t["user_id"] for t in member_view} == {tenant.member_id}


async def test_an_admin_issues_a_token_for_another_user(api: Api, tenant: Tenant) -> None:
    response = await api.client.post(
        "/api/v1/tokens/",
        json={"name": "for member", "user_id": tenant.member_id},
        headers=tenant.admin,
    )

    assert response.status_code == 201
    me = await api.client.get("/api/v1/account", headers=token_header(response.json()["token"]))
    assert me.json()["caller"]["user_id"] == tenant.member_id


async def test_a_member_may_not_issue_or_revoke_tokens_of_others(api: Api, tenant: Tenant) -> None:
    issue = await api.client.post(
        "/api/v1/tokens/", json={"name": "x", "user_id": tenant.admin_id}, headers=tenant.member
    )
    admin_tokens = (await api.client.get("/api/v1/tokens/", headers=tenant.admin)).json()
    admin_token_id = next(t["id"] for t in admin_tokens if t["user_id"] == tenant.admin_id)
    revoke = await api.client.delete(f"/api/v1/tokens/{admin_token_id}/", headers=tenant.member)

    assert issue.status_code == 403
    assert revoke.status_code == 403
    assert (await api.client.get("/api/v1/account", headers=tenant.admin)).status_code == 200


async def test_an_admin_revokes_a_members_token(api: Api, tenant: Tenant) -> None:
    response = await api.client.delete(
        f"/api/v1/tokens/{tenant.member_token_id}/", headers=tenant.admin
    )

    assert response.status_code == 200
    assert (await api.client.get("/api/v1/account", headers=tenant.member)).status_code == 401


async def test_a_token_for_an_unknown_user_is_404(api: Api, tenant: Tenant) -> None:
    response = await api.client.post(
        "/api/v1/tokens/", json={"name": "x", "user_id": 999}, headers=tenant.admin
    )

    assert response.status_code == 404
