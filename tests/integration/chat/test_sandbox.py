"""The sandbox on console and API hosts: the owner chats before deploying, with a token."""

from __future__ import annotations

import msgspec

from tests.integration.chat.conftest import OTHER_ACCOUNT, Smarter, Tenant


def prompt(client_id: int) -> str:
    return f"/api/v1/llm-clients/{client_id}/prompt/"


BODY = {"messages": [{"role": "user", "content": "sandbox?"}]}


async def test_the_owner_chats_with_an_undeployed_client_and_it_is_recorded_as_sandbox(
    smarter: Smarter, tenant: Tenant
) -> None:
    client_id = await smarter.new_client(tenant.member, "draft")

    response = await smarter.console("POST", prompt(client_id), tenant.member, json=BODY)

    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "You said: sandbox?"
    await smarter.drain()
    history = await smarter.console(
        "GET", f"/api/v1/llm-clients/{client_id}/requests/", tenant.member
    )
    assert [i["mode"] for i in history.json()["items"]] == ["sandbox"]


async def test_the_sandbox_answers_on_the_api_host_too_and_streams(
    smarter: Smarter, tenant: Tenant
) -> None:
    client_id = await smarter.new_client(tenant.admin)

    response = await smarter.request(
        f"api.localhost:{smarter.port}",
        "POST",
        prompt(client_id),
        headers=tenant.admin,
        json={**BODY, "stream": True},
    )

    assert response.status_code == 200
    events = [e for e in response.text.split("\n\n") if e]
    assert events[-1] == "data: [DONE]"
    first = msgspec.json.decode(events[0].removeprefix("data: "))
    assert first["request_id"] == response.headers["x-request-id"]


async def test_the_sandbox_needs_a_token_and_the_owner(smarter: Smarter, tenant: Tenant) -> None:
    client_id = await smarter.new_client(tenant.admin)
    other = await smarter.tenant(OTHER_ACCOUNT, member="intruder")

    anonymous = await smarter.request(smarter.console_host, "POST", prompt(client_id), json=BODY)
    stranger = await smarter.console("POST", prompt(client_id), other.admin, json=BODY)
    colleague = await smarter.console("POST", prompt(client_id), tenant.member, json=BODY)

    assert anonymous.status_code == 401
    assert stranger.status_code == 404
    assert colleague.status_code == 404


async def test_sandbox_upstream_failures_keep_their_status(
    smarter: Smarter, tenant: Tenant
) -> None:
    client_id = await smarter.new_client(tenant.admin, default_model="fail-429")
    response = await smarter.console("POST", prompt(client_id), tenant.admin, json=BODY)
    assert response.status_code == 429 and response.headers["retry-after"] == "7"


async def test_a_bad_sandbox_body_is_a_400(smarter: Smarter, tenant: Tenant) -> None:
    client_id = await smarter.new_client(tenant.admin)
    response = await smarter.console(
        "POST", prompt(client_id), tenant.admin, json={"messages": "hi"}
    )
    assert response.status_code == 400


async def test_the_sandbox_config_points_at_the_console(smarter: Smarter, tenant: Tenant) -> None:
    client_id = await smarter.new_client(tenant.admin, app_name="Draft")

    response = await smarter.console(
        "GET", f"/api/v1/llm-clients/{client_id}/config/", tenant.admin
    )

    assert response.status_code == 200, response.text
    config = response.json()
    assert config["mode"] == "sandbox" and config["app_name"] == "Draft"
    assert config["url_llm_client"] == f"http://localhost:{smarter.port}{prompt(client_id)}"
    assert config["is_authentication_required"] is False
