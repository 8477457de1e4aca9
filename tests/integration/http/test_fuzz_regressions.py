"""What `make fuzz` (Schemathesis against the OpenAPI schema) found, kept from coming back.

The fuzzer reads the schema as a contract: where the schema was looser than the server,
schema-valid requests were refused; where it named the wrong media type or shape, answers
broke it. Each test pins one finding.
"""

from __future__ import annotations

from typing import Any

import pytest

from smarter.entrypoints.http.params import MAX_ID
from tests.integration.http.conftest import Api, Tenant
from tests.integration.http.test_llm_clients import CLIENTS, create

DOCS = "/api/docs/openapi.json"


async def schema_of(api: Api) -> dict[str, Any]:
    response = await api.client.get(DOCS)
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    return schema


def parameter(operation: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in operation["parameters"] if p["name"] == name)
    return found


async def test_id_bounds_in_the_schema_are_the_exact_integers_the_server_accepts(
    api: Api,
) -> None:
    schema = await schema_of(api)
    paths = schema["paths"]

    client_id = parameter(paths[f"{CLIENTS}/{{client_id}}"]["get"], "client_id")["schema"]
    offset = parameter(paths[CLIENTS]["get"], "offset")["schema"]
    before = parameter(paths[f"{CLIENTS}/{{client_id}}/requests"]["get"], "before")["schema"]

    # Litestar wrote 9.223372036854776e+18, i.e. 2**63, which the server refuses with 400.
    assert (client_id["minimum"], client_id["maximum"]) == (1, MAX_ID)
    assert (offset["minimum"], offset["maximum"]) == (0, MAX_ID)
    assert before["maximum"] == MAX_ID
    assert all(type(bound) is int for bound in (client_id["maximum"], offset["maximum"]))


@pytest.mark.parametrize(("client_id", "status"), [(MAX_ID, 404), (MAX_ID + 1, 400)])
async def test_the_largest_id_in_the_schema_is_looked_up_and_one_more_is_400(
    api: Api, tenant: Tenant, client_id: int, status: int
) -> None:
    response = await api.client.get(f"{CLIENTS}/{client_id}/", headers=tenant.admin)

    assert response.status_code == status, response.text


async def test_bodies_that_refuse_unknown_fields_say_so_in_the_schema(api: Api) -> None:
    components = (await schema_of(api))["components"]["schemas"]

    for name in ("LLMClientSpec", "LLMClientPatch", "NewToken", "NewUser", "NewCustomDomain"):
        assert components[name]["additionalProperties"] is False, name


async def test_an_unknown_field_in_a_body_is_still_a_400_naming_it(
    api: Api, tenant: Tenant
) -> None:
    response = await api.client.post(
        "/api/v1/tokens/", json={"name": "ci", "extra": 1}, headers=tenant.admin
    )

    assert response.status_code == 400
    assert response.json()["field"] == "extra"


async def test_a_clone_without_a_body_is_documented_as_optional_and_accepted(
    api: Api, tenant: Tenant
) -> None:
    operation = (await schema_of(api))["paths"][f"{CLIENTS}/{{client_id}}/clone"]["post"]
    original = await create(api, tenant.admin, name="original")

    response = await api.client.post(f"{CLIENTS}/{original['id']}/clone/", headers=tenant.admin)

    assert operation["requestBody"]["required"] is False
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "original-copy"


@pytest.mark.parametrize(
    ("query", "media_type"), [("", "application/yaml"), ("?format=json", "application/json")]
)
async def test_a_manifest_answers_in_a_media_type_the_schema_documents_as_an_object(
    api: Api, tenant: Tenant, query: str, media_type: str
) -> None:
    answer = (await schema_of(api))["paths"]["/api/v1/manifests/{client_id}"]["get"]
    documented = answer["responses"]["200"]["content"]
    client = await create(api, tenant.admin, name="documented")

    response = await api.client.get(
        f"/api/v1/manifests/{client['id']}/{query}", headers=tenant.admin
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(media_type)
    assert documented[media_type]["schema"]["type"] == "object"


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        (CLIENTS, "GET, OPTIONS, POST"),
        (f"{CLIENTS}/1", "DELETE, GET, OPTIONS, PATCH"),
        ("/api/v1/tokens", "GET, OPTIONS, POST"),
        ("/api/v1/custom-domains", "GET, OPTIONS, POST"),
    ],
)
async def test_options_lists_every_method_of_the_path(
    api: Api, tenant: Tenant, path: str, allow: str
) -> None:
    response = await api.client.options(path, headers=tenant.admin)

    assert response.status_code == 204
    assert response.headers["allow"] == allow


async def test_a_sandbox_prompt_to_a_provider_the_platform_lacks_is_a_409_naming_it(
    api: Api, tenant: Tenant
) -> None:
    # The fuzzer PATCHed the demo client's provider, then its prompt answered 503 every time.
    client = await create(api, tenant.admin, name="elsewhere", provider="nosuchprovider")
    body = {"messages": [{"role": "user", "content": "hello"}]}

    response = await api.client.post(
        f"{CLIENTS}/{client['id']}/prompt/", json=body, headers=tenant.admin
    )

    assert response.status_code == 409, response.text
    assert response.json()["field"] == "provider"
    assert "'nosuchprovider' is not configured" in response.json()["detail"]


async def test_a_bound_of_zero_is_in_the_schema_too(api: Api) -> None:
    temperature = (await schema_of(api))["components"]["schemas"]["ChatRequest"]["properties"][
        "temperature"
    ]

    # Litestar skipped the falsy `ge=0.0`, so -1.9 was schema-valid and then refused with 400.
    assert (temperature["minimum"], temperature["maximum"]) == (0, 2)


async def test_the_apply_schema_requires_what_the_server_requires_and_documents_updates(
    api: Api, tenant: Tenant
) -> None:
    operation = (await schema_of(api))["paths"]["/api/v1/manifests"]["post"]
    yaml_body = operation["requestBody"]["content"]["application/yaml"]
    body = yaml_body["schema"]
    manifest = "apiVersion: smarter.sh/v1\nkind: LLMClient\nmetadata:\n  name: nospec\n"
    yaml = {**tenant.admin, "content-type": "application/yaml"}

    created = await api.client.post("/api/v1/manifests/", content=manifest, headers=yaml)
    updated = await api.client.post("/api/v1/manifests/", content=manifest, headers=yaml)

    assert body["required"] == ["apiVersion", "kind", "metadata"]
    assert body["additionalProperties"] is False
    assert isinstance(yaml_body["example"], dict)  # a YAML mapping, not a string of YAML
    assert (created.status_code, updated.status_code) == (201, 200), updated.text
    assert {"200", "201"} <= set(operation["responses"])


@pytest.mark.parametrize("section", ["spec", "metadata"])
@pytest.mark.parametrize("value", [False, 0, "", []])
async def test_a_manifest_section_that_is_falsy_but_not_a_mapping_is_422_naming_it(
    api: Api, tenant: Tenant, section: str, value: Any
) -> None:
    manifest = {
        "apiVersion": "smarter.sh/v1",
        "kind": "LLMClient",
        "metadata": {"name": "falsy"},
        section: value,
    }

    # `"spec": false` was read as an empty spec, and applied.
    response = await api.client.post("/api/v1/manifests/", json=manifest, headers=tenant.admin)

    assert response.status_code == 422, response.text
    assert response.json()["field"] == section


async def test_a_manifest_with_an_empty_spec_section_still_applies(
    api: Api, tenant: Tenant
) -> None:
    manifest = "apiVersion: smarter.sh/v1\nkind: LLMClient\nmetadata:\n  name: bare\nspec:\n"
    yaml = {**tenant.admin, "content-type": "application/yaml"}

    response = await api.client.post("/api/v1/manifests/", content=manifest, headers=yaml)

    assert response.status_code == 201, response.text


async def test_the_sandbox_documents_its_streamed_answer(api: Api) -> None:
    operation = (await schema_of(api))["paths"][f"{CLIENTS}/{{client_id}}/prompt"]["post"]

    content = operation["responses"]["200"]["content"]

    # `"stream": true` answered text/event-stream, which the schema did not list; it is
    # described by its events, as Schemathesis checks each one.
    assert set(content) == {"application/json", "text/event-stream"}
    assert content["text/event-stream"]["schema"]["properties"]["data"]["type"] == "string"
