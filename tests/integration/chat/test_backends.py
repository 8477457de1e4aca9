"""The same chat path on PostgreSQL, and with Redis as the cache and the rate limiter."""

from __future__ import annotations

import secrets

from tests.integration.chat.conftest import running_smarter
from tests.support.openai_server import OpenAITestServer


async def test_history_is_recorded_on_either_database(
    database_url: str, upstream: OpenAITestServer
) -> None:
    async with running_smarter(database_url, upstream) as smarter:
        tenant = await smarter.tenant()
        client_id = await smarter.ready_client(tenant.admin)
        _, key = await smarter.api_key(tenant.admin, client_id)
        for text in ("one", "two"):
            response = await smarter.chat(smarter.client_host(), text, headers={"x-api-key": key})
            assert response.status_code == 200, response.text
        await smarter.drain()

        history = await smarter.console(
            "GET", f"/api/v1/llm-clients/{client_id}/requests/", tenant.admin
        )
        assert [i["status_code"] for i in history.json()["items"]] == [200, 200]


async def test_with_redis_the_cache_is_invalidated_and_keys_are_rate_limited(
    chat_database: str, upstream: OpenAITestServer
) -> None:
    account = "-".join(f"{secrets.randbelow(10_000):04d}" for _ in range(3))
    async with running_smarter(
        chat_database,
        upstream,
        redis_url="redis://127.0.0.1:6379/0",
        redis_prefix=f"smarter-test-{secrets.token_hex(6)}",  # keys of its own
        chat_rate_limit_per_minute=3,
    ) as smarter:
        tenant = await smarter.tenant(account)
        client_id = await smarter.ready_client(tenant.admin)
        host = smarter.client_host(account=account)
        key_id, key = await smarter.api_key(tenant.admin, client_id)
        headers = {"x-api-key": key}

        assert (await smarter.chat(host, headers=headers)).status_code == 200
        revoked = await smarter.console(
            "DELETE", f"/api/v1/llm-clients/{client_id}/api-keys/{key_id}/", tenant.admin
        )
        assert revoked.status_code == 200
        assert (await smarter.chat(host, headers=headers)).status_code == 200  # public again

        _, fresh = await smarter.api_key(tenant.admin, client_id)
        statuses = [
            (await smarter.chat(host, headers={"x-api-key": fresh})).status_code for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
