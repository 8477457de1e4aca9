"""Which host serves what, API keys, readiness, rate limits, CORS, bad bodies and the cache."""

from __future__ import annotations

import pytest

from tests.integration.chat.conftest import (
    OTHER_ACCOUNT,
    Smarter,
    Tenant,
    running_smarter,
)
from tests.support.openai_server import OpenAITestServer

# -- host styles ---------------------------------------------------------------------------------


async def test_the_local_host_of_an_admins_client_answers(smarter: Smarter, tenant: Tenant) -> None:
    await smarter.ready_client(tenant.admin)
    assert (await smarter.chat(smarter.client_host())).status_code == 200
    aliased = f"example.{tenant.account}.api.127.0.0.1:{smarter.port}"
    assert (await smarter.chat(aliased)).status_code == 200


async def test_a_non_admins_client_answers_on_its_owner_labelled_host(
    smarter: Smarter, tenant: Tenant
) -> None:
    await smarter.ready_client(tenant.member, "helper")

    assert (await smarter.chat(smarter.client_host("helper.member"))).status_code == 200
    assert (await smarter.chat(smarter.client_host("helper"))).status_code == 404


async def test_a_verified_custom_domain_host_of_a_deployed_client_answers(
    smarter: Smarter, tenant: Tenant
) -> None:
    client_id = await smarter.ready_client(tenant.admin)
    domain_id = await smarter.verified_domain(tenant, "bots.customer.com")
    attached = await smarter.console(
        "PUT",
        f"/api/v1/llm-clients/{client_id}/custom-domain/",
        tenant.admin,
        json={"custom_domain_id": domain_id},
    )
    assert attached.status_code == 200, attached.text

    response = await smarter.chat(f"example.bots.customer.com:{smarter.port}")

    assert response.status_code == 200, response.text
    unknown = await smarter.chat(f"other.bots.customer.com:{smarter.port}")
    assert unknown.status_code == 404


async def test_an_unverified_custom_domain_serves_nothing(smarter: Smarter, tenant: Tenant) -> None:
    await smarter.ready_client(tenant.admin)
    response = await smarter.chat("example.unverified-domain.com")
    assert response.status_code == 404
    assert "no LLMClient" in response.json()["detail"]


async def test_an_unknown_client_is_a_404_json(smarter: Smarter, tenant: Tenant) -> None:
    response = await smarter.chat(smarter.client_host("nobody"))
    assert response.status_code == 404
    assert response.json()["status_code"] == 404


async def test_an_invalid_host_is_a_400(smarter: Smarter) -> None:
    response = await smarter.chat(f"example.1234-56.api.localhost:{smarter.port}")
    assert response.status_code == 400
    assert "account number" in response.json()["detail"]


async def test_chat_routes_are_not_served_on_console_or_api_hosts(
    smarter: Smarter, tenant: Tenant
) -> None:
    await smarter.ready_client(tenant.admin)
    for host in (smarter.console_host, f"api.localhost:{smarter.port}"):
        assert (await smarter.chat(host)).status_code == 404
        assert (await smarter.request(host, "GET", "/config/")).status_code == 404


async def test_the_console_api_is_not_served_on_client_hosts(
    smarter: Smarter, tenant: Tenant
) -> None:
    await smarter.ready_client(tenant.admin)
    response = await smarter.request(
        smarter.client_host(), "GET", "/api/v1/llm-clients/", headers=tenant.admin
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")


async def test_an_undeployed_client_is_a_503(smarter: Smarter, tenant: Tenant) -> None:
    await smarter.new_client(tenant.admin)
    response = await smarter.chat(smarter.client_host())
    assert response.status_code == 503
    assert "not deployed" in response.json()["detail"]


async def test_a_deployed_client_that_is_not_provisioned_yet_is_a_503(
    smarter: Smarter, tenant: Tenant
) -> None:
    client_id = await smarter.new_client(tenant.admin)
    await smarter.deploy(tenant.admin, client_id, ready=False)
    response = await smarter.chat(smarter.client_host())
    assert response.status_code == 503
    assert "not ready" in response.json()["detail"]


# -- API keys ------------------------------------------------------------------------------------


async def test_a_client_without_keys_answers_anyone(smarter: Smarter, tenant: Tenant) -> None:
    await smarter.ready_client(tenant.admin)
    assert (await smarter.chat(smarter.client_host())).status_code == 200


async def test_a_key_is_required_once_the_client_has_one(smarter: Smarter, tenant: Tenant) -> None:
    client_id = await smarter.ready_client(tenant.admin)
    _, key = await smarter.api_key(tenant.admin, client_id)
    host = smarter.client_host()

    missing = await smarter.chat(host)
    wrong = await smarter.chat(host, headers={"x-api-key": key + "x"})
    by_header = await smarter.chat(host, headers={"x-api-key": key})
    by_bearer = await smarter.chat(host, headers={"Authorization": f"Bearer {key}"})

    assert missing.status_code == 401 and "requires an API key" in missing.json()["detail"]
    assert wrong.status_code == 401 and "wrong or revoked" in wrong.json()["detail"]
    assert by_header.status_code == 200 and by_bearer.status_code == 200


async def test_another_clients_key_is_refused(smarter: Smarter, tenant: Tenant) -> None:
    mine = await smarter.ready_client(tenant.admin)
    other = await smarter.ready_client(tenant.admin, "other")
    await smarter.api_key(tenant.admin, mine)
    _, others_key = await smarter.api_key(tenant.admin, other)

    response = await smarter.chat(smarter.client_host(), headers={"x-api-key": others_key})

    assert response.status_code == 401


async def test_a_revoked_key_is_refused_on_the_very_next_request(
    smarter: Smarter, tenant: Tenant
) -> None:
    client_id = await smarter.ready_client(tenant.admin)
    key_id, key = await smarter.api_key(tenant.admin, client_id)
    await smarter.api_key(tenant.admin, client_id)  # another key keeps the client protected
    assert (
        await smarter.chat(smarter.client_host(), headers={"x-api-key": key})
    ).status_code == 200

    revoked = await smarter.console(
        "DELETE", f"/api/v1/llm-clients/{client_id}/api-keys/{key_id}/", tenant.admin
    )
    assert revoked.status_code == 200
    response = await smarter.chat(smarter.client_host(), headers={"x-api-key": key})

    assert response.status_code == 401


async def test_an_undeployed_client_stops_answering_at_once(
    smarter: Smarter, tenant: Tenant
) -> None:
    client_id = await smarter.ready_client(tenant.admin)
    assert (await smarter.chat(smarter.client_host())).status_code == 200

    undeployed = await smarter.console(
        "POST", f"/api/v1/llm-clients/{client_id}/undeploy/", tenant.admin
    )
    assert undeployed.status_code == 202

    assert (await smarter.chat(smarter.client_host())).status_code == 503


async def test_a_host_that_was_unknown_serves_as_soon_as_its_client_is_ready(
    smarter: Smarter, tenant: Tenant
) -> None:
    assert (await smarter.chat(smarter.client_host())).status_code == 404  # cached as nothing
    await smarter.ready_client(tenant.admin)
    assert (await smarter.chat(smarter.client_host())).status_code == 200


# -- rate limits ---------------------------------------------------------------------------------


async def test_over_the_limit_a_key_gets_429_with_retry_after(
    chat_database: str, upstream: OpenAITestServer
) -> None:
    async with running_smarter(chat_database, upstream, chat_rate_limit_per_minute=2) as smarter:
        tenant = await smarter.tenant()
        client_id = await smarter.ready_client(tenant.admin)
        _, key = await smarter.api_key(tenant.admin, client_id)
        _, spare = await smarter.api_key(tenant.admin, client_id)
        host, headers = smarter.client_host(), {"x-api-key": key}

        statuses = [(await smarter.chat(host, headers=headers)).status_code for _ in range(2)]
        limited = await smarter.chat(host, headers=headers)
        other_key = await smarter.chat(host, headers={"x-api-key": spare})

        assert statuses == [200, 200]
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert other_key.status_code == 200


async def test_a_public_client_is_limited_per_caller(
    chat_database: str, upstream: OpenAITestServer
) -> None:
    async with running_smarter(chat_database, upstream, chat_rate_limit_per_minute=1) as smarter:
        tenant = await smarter.tenant()
        await smarter.ready_client(tenant.admin)
        assert (await smarter.chat(smarter.client_host())).status_code == 200
        assert (await smarter.chat(smarter.client_host())).status_code == 429


# -- CORS ----------------------------------------------------------------------------------------


def preflight_headers(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-api-key",
    }


async def test_a_preflight_from_a_listed_origin_is_allowed_without_credentials(
    smarter: Smarter, tenant: Tenant
) -> None:
    await smarter.ready_client(tenant.admin, cors_origins=["https://shop.example.org"])

    response = await smarter.request(
        smarter.client_host(),
        "OPTIONS",
        "/llm-client/",
        headers=preflight_headers("https://shop.example.org"),
    )

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "https://shop.example.org"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "x-api-key" in response.headers["access-control-allow-headers"]
    assert "access-control-allow-credentials" not in response.headers
    chat = await smarter.chat(smarter.client_host(), headers={"Origin": "https://shop.example.org"})
    assert chat.headers["access-control-allow-origin"] == "https://shop.example.org"
    assert "X-Request-Id" in chat.headers["access-control-expose-headers"]


async def test_the_clients_own_hosts_are_allowed_origins(smarter: Smarter, tenant: Tenant) -> None:
    await smarter.ready_client(tenant.admin)
    own = f"http://{smarter.client_host()}"
    default = f"http://example.{tenant.account}.api.local.example.com"
    for origin in (own, default):
        response = await smarter.request(
            smarter.client_host(), "OPTIONS", "/llm-client/", headers=preflight_headers(origin)
        )
        assert response.status_code == 204, origin
        assert response.headers["access-control-allow-origin"] == origin


async def test_another_origin_is_refused_without_cors_headers(
    smarter: Smarter, tenant: Tenant
) -> None:
    await smarter.ready_client(tenant.admin, cors_origins=["https://shop.example.org"])

    preflight = await smarter.request(
        smarter.client_host(),
        "OPTIONS",
        "/v1/chat/completions",
        headers=preflight_headers("https://evil.example.net"),
    )
    chat = await smarter.chat(smarter.client_host(), headers={"Origin": "https://evil.example.net"})

    assert preflight.status_code == 403
    assert "access-control-allow-origin" not in preflight.headers
    assert chat.status_code == 403
    assert "access-control-allow-origin" not in chat.headers


# -- bad bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"", "body"),
        (b"{not json", "body"),
        (b"[]", "body"),
        (b"{}", "body"),
        (b'{"messages": []}', "messages"),
        (b'{"messages": [{"role": "user", "content": 5}]}', "messages[0].content"),
        (b'{"messages": [{"role": "robot", "content": "x"}]}', "messages[0].role"),
        (b'{"messages": [{"role": "user", "content": "x"}], "stream": "yes"}', "stream"),
        (b'{"messages": [{"role": "user", "content": "x"}], "session_key": "a b"}', "session_key"),
        (b'{"messages": [{"role": "user", "content": "\\u0000"}]}', None),
        (b'{"messages": [{"role": "user", "content": "x"}], "prompt_history": {}}', None),
    ],
)
async def test_a_bad_body_is_a_400_naming_the_field(
    smarter: Smarter, tenant: Tenant, body: bytes, field: str | None
) -> None:
    await smarter.ready_client(tenant.admin)
    response = await smarter.request(
        smarter.client_host(),
        "POST",
        "/llm-client/",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    if field is not None:
        assert response.json()["field"] == field


async def test_a_huge_body_is_a_413(smarter: Smarter, tenant: Tenant) -> None:
    await smarter.ready_client(tenant.admin)
    huge = b'{"messages": [{"role": "user", "content": "' + b"x" * 1_100_000 + b'"}]}'
    response = await smarter.request(smarter.client_host(), "POST", "/llm-client/", content=huge)
    assert response.status_code == 413
    assert response.json()["status_code"] == 413


async def test_a_key_is_checked_before_the_body(smarter: Smarter, tenant: Tenant) -> None:
    client_id = await smarter.ready_client(tenant.admin)
    await smarter.api_key(tenant.admin, client_id)
    response = await smarter.request(smarter.client_host(), "POST", "/llm-client/", content=b"{")
    assert response.status_code == 401


# -- the UI configuration ------------------------------------------------------------------------


async def test_config_describes_the_client_for_its_chat_page(
    smarter: Smarter, tenant: Tenant
) -> None:
    client_id = await smarter.ready_client(
        tenant.admin, app_name="Helper", app_example_prompts=["Hi?"], app_placeholder="Ask..."
    )
    await smarter.api_key(tenant.admin, client_id)

    response = await smarter.request(smarter.client_host(), "GET", "/config/")

    assert response.status_code == 200, response.text
    config = response.json()
    assert config["app_name"] == "Helper" and config["app_example_prompts"] == ["Hi?"]
    assert config["app_placeholder"] == "Ask..." and config["name"] == "example"
    assert config["url_llm_client"] == f"http://{smarter.client_host()}/llm-client/"
    assert config["url_chat_config"] == f"http://{smarter.client_host()}/config/"
    assert config["default_url"] == f"http://example.{tenant.account}.api.local.example.com"
    assert config["custom_url"] is None
    assert config["is_authentication_required"] is True
    assert config["mode"] == "default"
    assert {k for k in config if k.startswith("app_")} == {
        "app_name",
        "app_assistant",
        "app_welcome_message",
        "app_example_prompts",
        "app_placeholder",
        "app_info_url",
        "app_background_image_url",
        "app_logo_url",
        "app_file_attachment",
    }


async def test_tenants_do_not_see_each_others_clients(smarter: Smarter, tenant: Tenant) -> None:
    other = await smarter.tenant(OTHER_ACCOUNT, member="intruder")
    await smarter.ready_client(tenant.admin)
    await smarter.ready_client(other.admin, "theirs")

    assert (await smarter.chat(smarter.client_host("theirs"))).status_code == 404
    assert (await smarter.chat(smarter.client_host("theirs", OTHER_ACCOUNT))).status_code == 200
