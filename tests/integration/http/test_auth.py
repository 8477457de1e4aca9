"""Console tokens: `Token` and `Bearer` work; missing, wrong and revoked tokens get 401."""

from __future__ import annotations

import pytest

from tests.integration.http.conftest import Api, Tenant, token_header


def plaintext(header: dict[str, str]) -> str:
    return header["Authorization"].split(" ", 1)[1]


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "token", "BEARER"])
async def test_a_token_works_with_the_token_and_bearer_schemes(
    api: Api, tenant: Tenant, scheme: str
) -> None:
    response = await api.client.get(
        "/api/v1/account", headers=token_header(plaintext(tenant.admin), scheme)
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Token"},
        {"Authorization": "Token smt_tok_not-a-real-token"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "smt_tok_only_the_token"},
    ],
)
async def test_a_missing_or_wrong_token_gets_401_json(
    api: Api, tenant: Tenant, headers: dict[str, str]
) -> None:
    response = await api.client.get("/api/v1/llm-clients/", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Token"
    body = response.json()
    assert body["status_code"] == 401
    assert body["detail"]
    assert body["field"] is None


async def test_a_scheme_in_front_of_another_accounts_token_does_not_matter(
    api: Api, tenant: Tenant
) -> None:
    wrong = {"Authorization": f"Basic {plaintext(tenant.admin)}"}

    assert (await api.client.get("/api/v1/account", headers=wrong)).status_code == 401


async def test_a_revoked_token_gets_401(api: Api, tenant: Tenant) -> None:
    issued = await api.client.post("/api/v1/tokens/", json={"name": "ci"}, headers=tenant.admin)
    token = token_header(issued.json()["token"])
    assert (await api.client.get("/api/v1/account", headers=token)).status_code == 200

    revoked = await api.client.delete(f"/api/v1/tokens/{issued.json()['id']}/", headers=token)

    assert revoked.status_code == 200
    assert (await api.client.get("/api/v1/account", headers=token)).status_code == 401
    assert (await api.client.get("/api/v1/account", headers=tenant.admin)).status_code == 200


async def test_authentication_comes_before_reading_the_body(api: Api) -> None:
    response = await api.client.post(
        "/api/v1/llm-clients/",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/account"),
        ("GET", "/api/v1/users/"),
        ("POST", "/api/v1/users/"),
        ("GET", "/api/v1/tokens/"),
        ("POST", "/api/v1/tokens/"),
        ("DELETE", "/api/v1/tokens/1/"),
        ("GET", "/api/v1/llm-clients/"),
        ("POST", "/api/v1/llm-clients/"),
        ("GET", "/api/v1/llm-clients/1/"),
        ("PATCH", "/api/v1/llm-clients/1/"),
        ("DELETE", "/api/v1/llm-clients/1/"),
        ("POST", "/api/v1/llm-clients/1/clone/"),
        ("POST", "/api/v1/llm-clients/1/deploy/"),
        ("POST", "/api/v1/llm-clients/1/undeploy/"),
        ("GET", "/api/v1/llm-clients/1/status/"),
        ("GET", "/api/v1/llm-clients/1/api-keys/"),
        ("POST", "/api/v1/llm-clients/1/api-keys/"),
        ("DELETE", "/api/v1/llm-clients/1/api-keys/1/"),
        ("PUT", "/api/v1/llm-clients/1/custom-domain/"),
        ("GET", "/api/v1/custom-domains/"),
        ("POST", "/api/v1/custom-domains/"),
        ("GET", "/api/v1/custom-domains/1/"),
        ("DELETE", "/api/v1/custom-domains/1/"),
        ("POST", "/api/v1/custom-domains/1/verify/"),
        ("POST", "/api/v1/manifests/"),
        ("GET", "/api/v1/manifests/1/"),
    ],
)
async def test_every_console_endpoint_needs_a_token(api: Api, method: str, path: str) -> None:
    response = await api.client.request(method, path, json={})

    assert response.status_code == 401, response.text
