"""The tenant-isolation matrix, run against the fakes and against both SQL databases.

Account A and account B each own clients, API keys, custom domains, users and tokens. B's
admin tries every endpoint that takes an id on A's objects and gets 404 with nothing of A's
in the body; A's member tries A's admin's client and gets 404 too; afterwards A's objects are
unchanged, and no list shows another account's objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.integration.http.conftest import Api, Tenant

V1 = "/api/v1"


@dataclass
class Owned:
    """What one account made, and the strings that must never reach the other account."""

    tenant: Tenant
    client_id: int
    member_client_id: int
    key_id: int
    domain_id: int
    token_id: int
    secrets: tuple[str, ...]


async def _ok(api: Api, method: str, path: str, headers: dict[str, str], **kw: Any) -> Any:
    response = await api.request(method, path, headers=headers, **kw)
    assert response.status_code in (200, 201, 202), (method, path, response.text)
    return response.json()


async def populate(api: Api, tenant: Tenant, label: str) -> Owned:
    admin = tenant.admin
    client = await _ok(
        api,
        "POST",
        f"{V1}/llm-clients/",
        admin,
        json={"name": f"{label}bot", "description": f"{label}-private-description"},
    )
    member_client = await _ok(
        api, "POST", f"{V1}/llm-clients/", tenant.member, json={"name": f"{label}member"}
    )
    key = await _ok(
        api,
        "POST",
        f"{V1}/llm-clients/{client['id']}/api-keys/",
        admin,
        json={"name": f"{label}-key"},
    )
    domain = await _ok(
        api, "POST", f"{V1}/custom-domains/", admin, json={"domain_name": f"{label}-zone.com"}
    )
    token = await _ok(api, "POST", f"{V1}/tokens/", admin, json={"name": f"{label}-token"})
    await _ok(
        api,
        "PUT",
        f"{V1}/llm-clients/{client['id']}/custom-domain/",
        admin,
        json={"custom_domain_id": domain["id"]},
    )
    return Owned(
        tenant=tenant,
        client_id=client["id"],
        member_client_id=member_client["id"],
        key_id=key["id"],
        domain_id=domain["id"],
        token_id=token["id"],
        secrets=(
            f"{label}bot",
            f"{label}member",
            f"{label}-private-description",
            f"{label}-zone.com",
            f"{label}-key",
            f"{label}-token",
            tenant.account_number,
            client["default_host"],
            client["hashed_id"],
            key["prefix"],
            token["prefix"],
        ),
    )


def attempts_on(a: Owned, b: Owned) -> list[tuple[str, str, Any]]:
    """Every endpoint with an id, aimed by B at A's objects: (method, path, json body)."""
    client = f"{V1}/llm-clients/{a.client_id}"
    return [
        *client_attempts(client),
        ("DELETE", f"{client}/api-keys/{a.key_id}/", None),
        ("DELETE", f"{V1}/llm-clients/{b.client_id}/api-keys/{a.key_id}/", None),
        (
            "PUT",
            f"{V1}/llm-clients/{b.client_id}/custom-domain/",
            {"custom_domain_id": a.domain_id},
        ),
        ("GET", f"{V1}/custom-domains/{a.domain_id}/", None),
        ("DELETE", f"{V1}/custom-domains/{a.domain_id}/", None),
        ("POST", f"{V1}/custom-domains/{a.domain_id}/verify/", None),
        ("DELETE", f"{V1}/tokens/{a.token_id}/", None),
        ("POST", f"{V1}/tokens/", {"name": "stolen", "user_id": a.tenant.admin_id}),
        ("POST", f"{V1}/tokens/", {"name": "stolen", "user_id": a.tenant.member_id}),
    ]


def client_attempts(client: str) -> list[tuple[str, str, Any]]:
    """The endpoints that take a client id, for any caller who may not see the client."""
    return [
        ("GET", f"{client}/", None),
        ("PATCH", f"{client}/", {"description": "changed by an intruder"}),
        ("DELETE", f"{client}/", None),
        ("POST", f"{client}/clone/", None),
        ("POST", f"{client}/clone/", {"name": "stolen"}),
        ("POST", f"{client}/deploy/", None),
        ("POST", f"{client}/undeploy/", None),
        ("GET", f"{client}/status/", None),
        ("GET", f"{client}/api-keys/", None),
        ("POST", f"{client}/api-keys/", {"name": "stolen"}),
        ("PUT", f"{client}/custom-domain/", {"custom_domain_id": None}),
        ("GET", f"{client}/requests/", None),
        ("GET", f"{client}/conversations/", None),
        ("GET", f"{client}/conversations/s-1/", None),
        ("GET", f"/api/v1/manifests/{client.rsplit('/', 1)[1]}/", None),
        ("GET", f"/api/v1/manifests/{client.rsplit('/', 1)[1]}/?format=json", None),
    ]


async def denied(
    api: Api,
    headers: dict[str, str],
    attempts: list[tuple[str, str, Any]],
    secrets: tuple[str, ...],
    *,
    member: bool = False,
) -> list[str]:
    """The attempts that did not get a plain 404 without any of the secrets.

    A member (non-admin) may also get the 403 "only an account admin may ..." that admin-only
    actions answer before looking anything up: it is the same for every id, so it tells
    nothing about the object.
    """
    failures = []
    for method, path, body in attempts:
        response = await api.request(method, path, headers=headers, json=body)
        leaked = [secret for secret in secrets if secret in response.text]
        forbidden = response.status_code == 403 and response.json()["detail"].startswith(
            "only an account admin may"
        )
        if not (response.status_code == 404 or (member and forbidden)) or leaked:
            failures.append(f"{method} {path}: {response.status_code} {leaked} {response.text}")
    return failures


async def listed(api: Api, owner: Owned) -> str:
    """Everything the owner's admin and member can list, as one text."""
    texts = []
    for headers in (owner.tenant.admin, owner.tenant.member):
        for path in (
            f"{V1}/account",
            f"{V1}/users/",
            f"{V1}/tokens/",
            f"{V1}/llm-clients/?limit=200",
            f"{V1}/custom-domains/",
            f"{V1}/llm-clients/{owner.client_id}/api-keys/",
        ):
            response = await api.request("GET", path, headers=headers)
            texts.append(response.text)
    return "\n".join(texts)


async def run_isolation_matrix(api: Api) -> None:
    a = await populate(api, await api.new_tenant("1111-2222-3333"), "alpha")
    b = await populate(api, await api.new_tenant("4444-5555-6666", member="intruder"), "beta")
    before = await listed(api, a)

    failures = await denied(api, b.tenant.admin, attempts_on(a, b), a.secrets)
    failures += await denied(api, b.tenant.member, attempts_on(a, b), a.secrets, member=True)
    admin_client = f"{V1}/llm-clients/{a.client_id}"
    failures += await denied(api, a.tenant.member, client_attempts(admin_client), ())

    assert not failures, "\n".join(failures)
    assert await listed(api, a) == before, "A's objects changed"
    for secret in b.secrets:
        assert secret not in before, f"A sees B's {secret}"
    for secret in a.secrets:
        assert secret not in await listed(api, b), f"B sees A's {secret}"
    # Applying a manifest with the name of A's client makes B's own client; A's is untouched.
    manifest = {
        "apiVersion": "smarter.sh/v1",
        "kind": "LLMClient",
        "metadata": {"name": "alphabot"},
    }
    applied = await api.request("POST", f"{V1}/manifests/", json=manifest, headers=b.tenant.admin)
    assert applied.status_code == 201
    assert applied.json()["account_number"] == b.tenant.account_number
    assert await listed(api, a) == before
