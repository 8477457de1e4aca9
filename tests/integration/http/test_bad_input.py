"""Bad input of every kind gets a 4xx JSON body naming the field; nothing is ever a bare 500."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from dishka import Provider, Scope, provide

from smarter.application.accounts import GetAccount
from smarter.domain.accounts import Principal
from smarter.entrypoints.http.app import create_app
from smarter.entrypoints.http.host_gate import HostGate
from smarter.entrypoints.settings import Settings
from smarter.entrypoints.wiring import make_container
from tests.fakes import FakeClock, FakeUnitOfWork
from tests.integration.http.conftest import Api, FakesProvider, Tenant, client_for
from tests.integration.http.test_llm_clients import CLIENTS, create

JSON = {"content-type": "application/json"}


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"status_code", "detail", "field"}
    assert body["status_code"] == status
    assert body["detail"]
    return body


@pytest.mark.parametrize(
    "content", [b"{not json", b'{"name": "x",}', b"\xff\xfe", b'{"name": "x"} trailing', b"nul"]
)
async def test_malformed_json_is_400(api: Api, tenant: Tenant, content: bytes) -> None:
    response = await api.client.post(
        f"{CLIENTS}/", content=content, headers={**tenant.admin, **JSON}
    )

    body = error_of(response, 400)
    assert body["field"] is None


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"name": 5}, "name"),
        ({"name": "ok", "tags": "one"}, "tags"),
        ({"name": "ok", "tags": [1]}, "tags[0]"),
        ({"name": "ok", "default_temperature": "hot"}, "default_temperature"),
        ({"name": "ok", "annotations": {"k": 1}}, "annotations[...]"),
        ({"name": "ok", "app_file_attachment": "maybe"}, "app_file_attachment"),
        ({"name": "ok", "deployed": True}, "deployed"),
        ({"name": "ok", "id": 5}, "id"),
        ({}, "name"),
    ],
)
async def test_wrong_types_unknown_and_missing_fields_are_400_naming_the_field(
    api: Api, tenant: Tenant, spec: dict[str, Any], field: str
) -> None:
    response = await api.client.post(f"{CLIENTS}/", json=spec, headers=tenant.admin)

    body = error_of(response, 400)
    assert body["field"] == field
    assert field in body["detail"]


@pytest.mark.parametrize("payload", [[{"name": "x"}], "x", 5, None])
async def test_a_body_that_is_not_an_object_is_400(api: Api, tenant: Tenant, payload: Any) -> None:
    response = await api.client.post(f"{CLIENTS}/", json=payload, headers=tenant.admin)

    error_of(response, 400)


async def test_a_missing_body_is_400(api: Api, tenant: Tenant) -> None:
    response = await api.client.post(f"{CLIENTS}/", headers=tenant.admin)

    assert "body is required" in error_of(response, 400)["detail"]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"name": "9lives"}, "name"),
        ({"name": "has space"}, "name"),
        ({"name": "x" * 129}, "name"),
        ({"name": "ok", "version": "1.0"}, "version"),
        ({"name": "ok", "app_info_url": "ftp://example.com"}, "app_info_url"),
        ({"name": "ok", "app_logo_url": "https://bad host/"}, "app_logo_url"),
        ({"name": "ok", "cors_origins": ["javascript:alert(1)"]}, "cors_origins"),
        ({"name": "ok", "default_temperature": 3}, "default_temperature"),
        ({"name": "ok", "default_max_tokens": 0}, "default_max_tokens"),
        ({"name": "ok", "provider": "Open AI"}, "provider"),
    ],
)
async def test_values_breaking_the_model_rules_are_422_naming_the_field(
    api: Api, tenant: Tenant, spec: dict[str, Any], field: str
) -> None:
    """LLMClientSpec validates in __post_init__ while Litestar decodes the body: its
    InvalidValue (not a ValueError) reaches the error handlers as itself."""
    response = await api.client.post(f"{CLIENTS}/", json=spec, headers=tenant.admin)

    assert error_of(response, 422)["field"] == field


@pytest.mark.parametrize(
    ("patch", "status", "field"),
    [
        ({"name": None}, 400, "name"),
        ({"tags": {"a": 1}}, 400, "tags"),
        ({"surprise": 1}, 400, "surprise"),
        ({"version": "v2"}, 422, "version"),
        ({"app_info_url": "nope"}, 422, "app_info_url"),
    ],
)
async def test_a_bad_patch_is_refused_naming_the_field(
    api: Api, tenant: Tenant, patch: dict[str, Any], status: int, field: str
) -> None:
    client = await create(api, tenant.admin, name="example")

    response = await api.client.patch(
        f"{CLIENTS}/{client['id']}/", json=patch, headers=tenant.admin
    )

    assert error_of(response, status)["field"] == field
    unchanged = await api.client.get(f"{CLIENTS}/{client['id']}/", headers=tenant.admin)
    assert unchanged.json() == client


@pytest.mark.parametrize(
    ("method", "path", "payload", "field"),
    [
        ("POST", "/api/v1/tokens/", {"name": 5}, "name"),
        ("POST", "/api/v1/tokens/", {"name": "x", "user_id": "me"}, "user_id"),
        ("POST", "/api/v1/tokens/", {"name": "x", "user_id": 0}, "user_id"),
        ("POST", "/api/v1/tokens/", {"name": ""}, "name"),
        ("POST", "/api/v1/users/", {"username": ["a"]}, "username"),
        ("POST", "/api/v1/users/", {"username": "a", "role": "root"}, "role"),
        ("POST", "/api/v1/custom-domains/", {"domain_name": None}, "domain_name"),
        ("POST", "/api/v1/custom-domains/", {}, "domain_name"),
        ("PUT", f"{CLIENTS}/1/custom-domain/", {}, "custom_domain_id"),
        ("PUT", f"{CLIENTS}/1/custom-domain/", {"custom_domain_id": "x"}, "custom_domain_id"),
        ("POST", f"{CLIENTS}/1/clone/", {"name": 1}, "name"),
        ("POST", f"{CLIENTS}/1/clone/", {"nmae": "x"}, "nmae"),
    ],
)
async def test_every_json_body_names_the_bad_field(
    api: Api, tenant: Tenant, method: str, path: str, payload: Any, field: str
) -> None:
    response = await api.client.request(method, path, json=payload, headers=tenant.admin)

    assert error_of(response, 400)["field"] == field


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=201", "limit"),
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("deployed=perhaps", "deployed"),
        ("name=" + "x" * 129, "name"),
        ("name=a%00b", "name"),
    ],
)
async def test_bad_list_parameters_are_400_naming_the_parameter(
    api: Api, tenant: Tenant, query: str, field: str
) -> None:
    response = await api.client.get(f"{CLIENTS}/?{query}", headers=tenant.admin)

    assert error_of(response, 400)["field"] == field


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"{CLIENTS}/abc/", "client_id"),
        (f"{CLIENTS}/0/", "client_id"),
        (f"{CLIENTS}/-3/status/", "client_id"),
        (f"{CLIENTS}/1.5/", "client_id"),
        (f"{CLIENTS}/99999999999999999999999/", "client_id"),
        (f"{CLIENTS}/1/api-keys/x/", "key_id"),
        ("/api/v1/custom-domains/one/", "domain_id"),
        ("/api/v1/tokens/%20/", "token_id"),
        ("/api/v1/manifests/ten/", "client_id"),
    ],
)
async def test_ids_that_are_not_positive_integers_are_400_naming_the_parameter(
    api: Api, tenant: Tenant, path: str, field: str
) -> None:
    method = "DELETE" if "api-keys" in path or "tokens" in path else "GET"

    response = await api.client.request(method, path, headers=tenant.admin)

    assert error_of(response, 400)["field"] == field


async def test_a_body_over_one_mebibyte_is_413(api: Api, tenant: Tenant) -> None:
    big = {"name": "big", "description": "x" * 1_100_000}

    response = await api.client.post(f"{CLIENTS}/", json=big, headers=tenant.admin)
    manifest = await api.client.post(
        "/api/v1/manifests/",
        content=b"a: " + b"x" * 1_100_000,
        headers={**tenant.admin, "content-type": "application/yaml"},
    )

    error_of(response, 413)
    error_of(manifest, 413)


async def test_a_body_just_under_the_limit_is_read(api: Api, tenant: Tenant) -> None:
    spec = {"name": "big", "description": "x" * 1_000_000}

    response = await api.client.post(f"{CLIENTS}/", json=spec, headers=tenant.admin)

    assert response.status_code == 201


async def test_deeply_nested_json_is_400(api: Api, tenant: Tenant) -> None:
    response = await api.client.post(
        f"{CLIENTS}/", content=b"[" * 200_000, headers={**tenant.admin, **JSON}
    )

    error_of(response, 400)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "ok", "description": "a\u0000b"}, "description"),
        ({"name": "ok", "tags": ["fine", "n\u0000"]}, "tags[1]"),
        ({"name": "ok", "annotations": {"k\u0000": "v"}}, "annotations.k\u0000"),
    ],
)
async def test_nul_characters_are_400_naming_the_field(
    api: Api, tenant: Tenant, payload: dict[str, Any], field: str
) -> None:
    response = await api.client.post(f"{CLIENTS}/", json=payload, headers=tenant.admin)

    assert error_of(response, 400)["field"] == field


async def test_a_nul_character_in_a_yaml_manifest_is_400(api: Api, tenant: Tenant) -> None:
    manifest = (
        'apiVersion: smarter.sh/v1\nkind: LLMClient\nmetadata:\n  name: x\n  description: "a\\0"\n'
    )

    response = await api.client.post(
        "/api/v1/manifests/",
        content=manifest,
        headers={**tenant.admin, "content-type": "application/yaml"},
    )

    assert error_of(response, 400)["field"] == "metadata.description"


async def test_an_unknown_route_is_404_json_and_a_wrong_method_405_json(
    api: Api, tenant: Tenant
) -> None:
    missing = await api.client.get("/api/v1/nothing-here/", headers=tenant.admin)
    wrong = await api.client.put(f"{CLIENTS}/", headers=tenant.admin, json={})

    error_of(missing, 404)
    error_of(wrong, 405)
    assert "allow" in wrong.headers


class BrokenGetAccount:
    async def __call__(self, principal: Principal) -> None:
        raise RuntimeError("database password is hunter2")


class BrokenProvider(Provider):
    @provide(scope=Scope.REQUEST, override=True)
    def get_account(self) -> GetAccount:
        return BrokenGetAccount()  # type: ignore[return-value]


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_an_unexpected_error_is_a_json_500_logged_with_its_traceback(
    settings: Settings, uow: FakeUnitOfWork, clock: FakeClock
) -> None:
    # Litestar's logging configuration replaces the root handlers (and pytest's caplog).
    logger, records = logging.getLogger("smarter.http"), Records()
    logger.addHandler(records)
    container = make_container(settings, FakesProvider(uow, clock), BrokenProvider())
    try:
        async with client_for(create_app(settings, container)) as client:
            tenant = await Api(client, container).new_tenant("1111-2222-3333")
            response = await client.get("/api/v1/account", headers=tenant.admin)
    finally:
        logger.removeHandler(records)

    assert response.status_code == 500
    assert response.json() == {"status_code": 500, "detail": "internal error", "field": None}
    assert "hunter2" not in response.text
    assert any(r.exc_info and "hunter2" in str(r.exc_info[1]) for r in records.records)


async def test_the_host_gate_turns_an_escaped_exception_into_a_json_500(
    settings: Settings, container: Any
) -> None:
    async def exploding_app(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("escaped every handler")

    gate = HostGate(exploding_app, container, settings.environment)
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "path": "/api/v1/account", "headers": [(b"host", b"localhost:9357")]}
    await gate(scope, None, send)  # type: ignore[arg-type]

    assert sent[0]["status"] == 500
    assert sent[1]["body"] == b'{"status_code":500,"detail":"internal error","field":null}'
