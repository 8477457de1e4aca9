"""`/api/v1/manifests/`: apply YAML or JSON manifests, read clients back as manifests."""

from __future__ import annotations

import pytest

from smarter.domain.errors import InvalidValue
from smarter.entrypoints.manifest_yaml import dump_manifest, load_manifest
from tests.integration.http.conftest import Api, Tenant

MANIFESTS = "/api/v1/manifests"
MANIFEST = """\
apiVersion: smarter.sh/v1
kind: LLMClient
metadata:
  name: example
  description: A support bot
  version: 1.2.0
  tags: [support]
spec:
  default_model: gpt-4o
  app_name: Example
  app_example_prompts:
    - What can you do?
status:
  deployed: true
"""


def yaml_headers(headers: dict[str, str], content_type: str = "application/yaml") -> dict[str, str]:
    return {**headers, "content-type": content_type}


@pytest.mark.parametrize(
    "content_type",
    ["application/yaml", "text/yaml", "application/x-yaml", "text/plain; charset=utf-8"],
)
async def test_applying_a_yaml_manifest_creates_the_client(
    api: Api, tenant: Tenant, content_type: str
) -> None:
    response = await api.client.post(
        f"{MANIFESTS}/", content=MANIFEST, headers=yaml_headers(tenant.admin, content_type)
    )

    assert response.status_code == 201, response.text
    client = response.json()
    assert (client["name"], client["version"], client["default_model"]) == (
        "example",
        "1.2.0",
        "gpt-4o",
    )
    assert client["app_example_prompts"] == ["What can you do?"]
    assert client["deployed"] is False
    assert "default_url" in client and "hashed_id" in client


async def test_applying_the_same_manifest_again_updates_the_same_client(
    api: Api, tenant: Tenant
) -> None:
    headers = yaml_headers(tenant.admin)
    first = await api.client.post(f"{MANIFESTS}/", content=MANIFEST, headers=headers)
    changed = MANIFEST.replace("gpt-4o", "gpt-4.1")

    second = await api.client.post(f"{MANIFESTS}/", content=changed, headers=headers)

    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["default_model"] == "gpt-4.1"


async def test_a_json_manifest_is_applied_too(api: Api, tenant: Tenant) -> None:
    manifest = load_manifest(MANIFEST)

    response = await api.client.post(f"{MANIFESTS}/", json=manifest, headers=tenant.admin)

    assert response.status_code == 201
    assert response.json()["name"] == "example"


async def test_a_client_reads_back_as_yaml_that_applies_unchanged(api: Api, tenant: Tenant) -> None:
    created = await api.client.post(
        f"{MANIFESTS}/", content=MANIFEST, headers=yaml_headers(tenant.admin)
    )
    client_id = created.json()["id"]

    response = await api.client.get(f"{MANIFESTS}/{client_id}/", headers=tenant.admin)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    assert response.text.startswith("apiVersion: smarter.sh/v1\nkind: LLMClient\nmetadata:\n")
    manifest = load_manifest(response.text)
    assert manifest["metadata"]["name"] == "example"
    assert manifest["spec"]["default_model"] == "gpt-4o"
    assert manifest["status"]["id"] == client_id
    again = await api.client.post(
        f"{MANIFESTS}/", content=response.text, headers=yaml_headers(tenant.admin)
    )
    assert again.status_code == 200
    assert again.json() == {**created.json(), "updated_at": again.json()["updated_at"]}


async def test_a_client_reads_back_as_json_on_request(api: Api, tenant: Tenant) -> None:
    created = await api.client.post(
        f"{MANIFESTS}/", content=MANIFEST, headers=yaml_headers(tenant.admin)
    )

    response = await api.client.get(
        f"{MANIFESTS}/{created.json()['id']}/?format=json", headers=tenant.admin
    )

    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["metadata"]["tags"] == ["support"]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("apiVersion: [unclosed", "not valid YAML"),
        ("base: &b {name: x}\nmetadata: *b\n", "anchors and aliases"),
        ("- a list\n- of things\n", "must be a YAML mapping"),
        ("just a string", "must be a YAML mapping"),
        ("a: 1\n---\nb: 2\n", "single document"),
        ("a: !!python/object:os.system x", "not valid YAML"),
        ("[" * 5000, ""),
        ("   ", "manifest is required"),
    ],
)
async def test_a_body_that_is_not_a_yaml_mapping_is_400(
    api: Api, tenant: Tenant, body: str, detail: str
) -> None:
    response = await api.client.post(
        f"{MANIFESTS}/", content=body, headers=yaml_headers(tenant.admin)
    )

    assert response.status_code == 400, response.text
    assert detail in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (MANIFEST.replace("smarter.sh/v1", "smarter.sh/v2"), "apiVersion"),
        (MANIFEST.replace("kind: LLMClient", "kind: Plugin"), "kind"),
        (MANIFEST.replace("app_name:", "app_nmae:"), "spec.app_nmae"),
        (MANIFEST.replace("name: example", "name: 1example"), "name"),
        (MANIFEST.replace("version: 1.2.0", "version: one"), "version"),
        (MANIFEST.replace("  app_name: Example", "  app_logo_url: not-a-url"), "app_logo_url"),
        (MANIFEST.replace("  name: example\n", ""), "metadata.name"),
        (MANIFEST + "extra: 1\n", "extra"),
        (MANIFEST.replace("tags: [support]", "tags: support"), "tags"),
    ],
)
async def test_a_manifest_breaking_a_rule_is_422_naming_the_field(
    api: Api, tenant: Tenant, body: str, field: str
) -> None:
    response = await api.client.post(
        f"{MANIFESTS}/", content=body, headers=yaml_headers(tenant.admin)
    )

    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


async def test_a_malformed_json_manifest_is_400(api: Api, tenant: Tenant) -> None:
    for body in (b"{nope", b"[1, 2]", b"[" * 100_000):
        response = await api.client.post(
            f"{MANIFESTS}/", content=body, headers=yaml_headers(tenant.admin, "application/json")
        )
        assert response.status_code == 400, body[:10]


async def test_a_manifest_in_another_format_is_415(api: Api, tenant: Tenant) -> None:
    response = await api.client.post(
        f"{MANIFESTS}/", content=b"<xml/>", headers=yaml_headers(tenant.admin, "application/xml")
    )

    assert response.status_code == 415


async def test_a_manifest_that_is_not_utf8_is_400(api: Api, tenant: Tenant) -> None:
    response = await api.client.post(
        f"{MANIFESTS}/", content=b"name: \xff\xfe", headers=yaml_headers(tenant.admin)
    )

    assert response.status_code == 400


async def test_an_unknown_format_is_400_naming_the_parameter(api: Api, tenant: Tenant) -> None:
    response = await api.client.get(f"{MANIFESTS}/1/?format=xml", headers=tenant.admin)

    assert response.status_code == 400
    assert response.json()["field"] == "format"


async def test_an_unknown_client_has_no_manifest(api: Api, tenant: Tenant) -> None:
    response = await api.client.get(f"{MANIFESTS}/99/", headers=tenant.admin)

    assert response.status_code == 404


def test_load_manifest_refuses_aliases_even_deep_inside() -> None:
    with pytest.raises(InvalidValue, match="line 4"):
        load_manifest("a: 1\nb:\n  c:\n    - *x\n")


def test_load_manifest_keeps_date_like_values_as_written() -> None:
    assert load_manifest("version: 2024-01-01\n") == {"version": "2024-01-01"}


def test_dump_manifest_writes_block_style_in_the_manifests_order() -> None:
    text = dump_manifest({"kind": "LLMClient", "apiVersion": "v", "spec": {"b": [1], "a": "é"}})

    assert text == "kind: LLMClient\napiVersion: v\nspec:\n  b:\n  - 1\n  a: é\n"
