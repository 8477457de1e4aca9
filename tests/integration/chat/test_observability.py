"""What an operator sees of chat traffic: `/metrics` after chat requests (Prometheus text parsed
by prometheus_client's own parser), and request ids in answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.chat.conftest import Smarter, Tenant, running_smarter
from tests.support.openai_server import OpenAITestServer

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(smarter: Smarter) -> Samples:
    response = await smarter.request(smarter.console_host, "GET", "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


@pytest.fixture
async def limited(chat_database: str, upstream: OpenAITestServer) -> AsyncIterator[Smarter]:
    async with running_smarter(chat_database, upstream, chat_rate_limit_per_minute=3) as running:
        yield running


async def test_metrics_count_chat_traffic_by_route_kind_upstream_tokens_limits_and_cache(
    limited: Smarter,
) -> None:
    smarter = limited
    tenant = await smarter.tenant()
    await smarter.ready_client(tenant.admin)
    host = smarter.client_host()
    before = await scrape(smarter)

    answers = [await smarter.chat(host, f"question {n}") for n in range(4)]
    config = await smarter.request(host, "GET", "/config/")
    page = await smarter.request(host, "GET", "/")
    console = await smarter.console("GET", "/api/v1/llm-clients/", tenant.admin)
    unknown = await smarter.chat(smarter.client_host("nobody"))
    await smarter.drain()
    after = await scrape(smarter)

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert (config.status_code, page.status_code, console.status_code) == (200, 200, 200)
    assert unknown.status_code == 404
    requests = "smarter_http_requests_total"
    assert grew(before, after, requests, kind="chat", status="200") == 3
    assert grew(before, after, requests, kind="chat", status="429") == 1
    assert grew(before, after, requests, kind="chat", status="404") == 1
    assert grew(before, after, requests, kind="config", status="200") == 1
    assert grew(before, after, requests, kind="page", status="200") == 1
    assert grew(before, after, requests, kind="console", status="200") >= 1
    assert grew(before, after, "smarter_http_request_duration_seconds_count", kind="chat") == 5
    assert grew(before, after, "smarter_llm_request_duration_seconds_count", provider="local") == 3
    assert grew(before, after, "smarter_llm_tokens_total", provider="local", type="prompt") > 0
    assert grew(before, after, "smarter_llm_tokens_total", provider="local", type="completion") > 0
    assert grew(before, after, "smarter_chat_rate_limited_total") == 1
    hits = grew(before, after, "smarter_client_cache_lookups_total", result="hit")
    misses = grew(before, after, "smarter_client_cache_lookups_total", result="miss")
    assert hits >= 4 and misses >= 1  # the unknown host, at least
    assert after[("smarter_history_queued", ())] == 0  # drained: every turn is stored


async def test_upstream_failures_are_counted_by_provider_and_error(
    smarter: Smarter, tenant: Tenant
) -> None:
    await smarter.ready_client(tenant.admin, default_model="fail-500")
    before = await scrape(smarter)

    failed = await smarter.chat(smarter.client_host())
    after = await scrape(smarter)

    assert failed.status_code == 502
    errors = {
        dict(labels)["error"]: after[(name, labels)] - before.get((name, labels), 0.0)
        for name, labels in after
        if name == "smarter_llm_errors_total" and dict(labels)["provider"] == "local"
    }
    assert sum(errors.values()) == 1


async def test_every_answer_carries_the_request_id_and_a_callers_id_is_echoed(
    smarter: Smarter, tenant: Tenant
) -> None:
    await smarter.ready_client(tenant.admin)
    host = smarter.client_host()

    made = await smarter.chat(host)
    echoed = await smarter.chat(host, headers={"X-Request-Id": "edge-7f3a9c"})
    console = await smarter.console("GET", "/api/v1/account", tenant.admin)
    refused = await smarter.request("evil.example.org", "GET", "/", headers={"X-Request-Id": "a"})
    insane = await smarter.chat(host, headers={"X-Request-Id": "no spaces; please"})

    assert made.headers["x-request-id"] == made.json()["request_id"]  # the history's key
    assert echoed.headers["x-request-id"] == "edge-7f3a9c"
    # A caller's id may repeat: the chat turn keeps an id of its own as its history key.
    assert echoed.json()["request_id"] not in ("edge-7f3a9c", made.json()["request_id"])
    assert len(console.headers["x-request-id"]) == 32
    assert refused.headers["x-request-id"] == "a"
    assert insane.headers["x-request-id"] not in ("", "no spaces; please")
