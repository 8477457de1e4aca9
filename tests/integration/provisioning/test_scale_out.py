"""Scale-out on one machine: two `smarter serve` and two `smarter worker` processes on one
PostgreSQL and one Redis (with Route 53 on moto's server, DNS from the test DNS server and the
Kubernetes API stand-in, as in test_worker_end_to_end.py).

Shown, in order, on one running platform:
- a client deployed through one web process is provisioned by the workers and served by both;
- an API key revoked through one web process is refused by the other (the time it took is
  printed: the invalidation is pushed through Redis, nothing waits for an expiry);
- the rate limit is shared: over both processes the key gets exactly the limit;
- 100 deploys are spread over both workers and each is provisioned exactly once (one record
  change, one Ingress apply, per host);
- SIGTERM to a web process while it serves requests: every request it accepted is answered
  200 and is in the history.
Waits are on observable events (a status, a metric, the upstream receiving the requests),
each with a generous limit that only guards against a hang.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from smarter.adapters.sql.rows import ChatRequestRow
from smarter.application import accounts, llm_clients
from smarter.domain.account_number import AccountNumber
from smarter.domain.llm_client import LLMClientSpec
from tests.integration.provisioning.test_worker_end_to_end import (  # noqa: F401 (fixtures)
    kubernetes_api,
    platform,
    postgres_url,
)
from tests.integration.provisioning.worker_platform import PYTHON, Platform, until
from tests.support.openai_server import OpenAITestServer

RATE_LIMIT = 20
DEPLOYS = 100
HANG_GUARD = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Web:
    """One `smarter serve` process."""

    process: subprocess.Popen[bytes]
    http: httpx.AsyncClient

    async def chat(self, host: str, key: str | None = None, text: str = "hi") -> httpx.Response:
        headers = {"Host": host, **({"x-api-key": key} if key else {})}
        body = {"messages": [{"role": "user", "content": text}]}
        return await self.http.post("/llm-client/", json=body, headers=headers)


@pytest.fixture(scope="module")
def upstream() -> Iterator[OpenAITestServer]:
    with OpenAITestServer(slow_seconds=1.5) as server:
        yield server


@pytest.fixture
async def webs(
    platform: Platform,  # noqa: F811 (the fixture imported above)
    upstream: OpenAITestServer,
) -> AsyncIterator[list[Web]]:
    started: list[Web] = []
    providers = {"local": {"base_url": upstream.base_url, "api_key": "unused"}}
    for n in range(2):
        port = free_port()
        env = {
            **platform.env,
            "SMARTER_BIND_HOST": "127.0.0.1",
            "SMARTER_PORT": str(port),
            "SMARTER_CHAT_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT),
            "SMARTER_LLM_PROVIDERS": json.dumps(providers),
            "SMARTER_SHUTDOWN_TIMEOUT_SECONDS": "20",
        }
        process = _start_web(env, platform.logs / f"web-{n}.log")
        http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30)
        started.append(Web(process, http))
    for web in started:
        await until(lambda web=web: _ready(web), HANG_GUARD, "a web process to be ready")
    yield started
    for web in started:
        await web.http.aclose()
        if web.process.poll() is None:
            web.process.send_signal(signal.SIGKILL)
            web.process.wait(10)


def _start_web(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [PYTHON, "-m", "smarter.entrypoints.cli", "serve"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


async def _ready(web: Web) -> bool:
    assert web.process.poll() is None, "a web process exited"
    try:
        return (await web.http.get("/readyz")).status_code == 200
    except httpx.TransportError:
        return False


def _metric(text: str, name: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    )


async def test_two_web_and_two_worker_processes_serve_one_platform(
    platform: Platform,  # noqa: F811 (the fixture imported above)
    webs: list[Web],
    upstream: OpenAITestServer,
) -> None:
    p, (a, b) = platform, webs
    metrics_ports = [free_port(), free_port()]
    for port in metrics_ports:
        p.start_worker(SMARTER_WORKER_METRICS_PORT=str(port), SMARTER_BIND_HOST="127.0.0.1")
    await p.workers_up(2)
    console = f"alpha.platform.{p.zone_name.removeprefix('alpha.api.')}"
    async with p.container() as request:
        created = await (await request.get(accounts.CreateAccount))(
            name="Scale", admin_username="admin", number=AccountNumber("5000-6000-7001")
        )
    admin = {"Authorization": f"Token {created.token.plaintext}", "Host": console}

    # -- deployed through A, provisioned by the workers, served by both ----------------------
    made = await a.http.post(
        "/api/v1/llm-clients/", headers=admin, json={"name": "helpdesk", "provider": "echo"}
    )
    assert made.status_code == 201, made.text
    client_id = made.json()["id"]
    deployed = await a.http.post(f"/api/v1/llm-clients/{client_id}/deploy/", headers=admin)
    assert deployed.status_code == 202

    async def ready() -> bool:
        status = await b.http.get(f"/api/v1/llm-clients/{client_id}/", headers=admin)
        return bool(status.json()["ready"])

    await until(ready, HANG_GUARD, "the client to be ready")
    host = made.json()["default_host"]
    assert [(await web.chat(host)).status_code for web in (a, b)] == [200, 200]

    # -- a key revoked through A is refused by B -------------------------------------------------
    keys = f"/api/v1/llm-clients/{client_id}/api-keys/"
    first = (await a.http.post(keys, headers=admin, json={"name": "revoked"})).json()
    shared = (await a.http.post(keys, headers=admin, json={"name": "shared"})).json()
    assert (await b.chat(host, first["api_key"])).status_code == 200  # B has it cached
    revoked_at = time.monotonic()
    assert (await a.http.delete(f"{keys}{first['id']}/", headers=admin)).status_code == 200

    async def refused_by_b() -> bool:
        return (await b.chat(host, first["api_key"])).status_code == 401

    await until(refused_by_b, HANG_GUARD, "B to refuse the revoked key")
    print(f"\nrevoked through A, refused by B after {time.monotonic() - revoked_at:.3f} s")
    assert (await a.chat(host, first["api_key"])).status_code == 401

    # -- one rate limit over both processes ------------------------------------------------------
    answers = await asyncio.gather(
        *(web.chat(host, shared["api_key"]) for _ in range(RATE_LIMIT) for web in (a, b))
    )
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {200: RATE_LIMIT, 429: RATE_LIMIT}

    # -- 100 deploys over both workers, each provisioned exactly once --------------------------
    patches_before = len(p.kubernetes.requests_to("PATCH", "Ingress"))
    principals = [await p.account(f"5000-6000-80{n:02d}") for n in range(4)]
    clients = []
    async with p.container() as request:
        create = await request.get(llm_clients.CreateLLMClient)
        for n in range(DEPLOYS):
            principal = principals[n % len(principals)]
            client = await create(principal, LLMClientSpec(name=f"bot-{n}", provider="echo"))
            assert client.id is not None
            clients.append((principal, client.id))
    started = time.monotonic()
    async with p.container() as request:
        deploy = await request.get(llm_clients.DeployLLMClient)
        for principal, client_id in clients:
            await deploy(principal, client_id)

    async def all_ready() -> bool:
        return all([(await p.client(pr, cid)).ready for pr, cid in clients])

    await until(all_ready, HANG_GUARD, f"{DEPLOYS} deploys to be ready")
    print(f"{DEPLOYS} deploys ready on two workers after {time.monotonic() - started:.1f} s")
    hosts = [(await p.client(pr, cid)).default_host for pr, cid in clients]
    upserts = p.route53_server.upserts()
    assert [upserts[h] for h in hosts] == [1] * DEPLOYS
    applies = Counter(r.path for r in p.kubernetes.requests_to("PATCH", "Ingress")[patches_before:])
    assert len(applies) == DEPLOYS and set(applies.values()) == {1}
    jobs = []
    async with httpx.AsyncClient() as scraper:
        for port in metrics_ports:
            text = (await scraper.get(f"http://127.0.0.1:{port}/metrics")).text
            jobs.append(_metric(text, "smarter_jobs_total"))
    assert all(count > 0 for count in jobs), jobs  # both workers took their share
    print(f"jobs per worker: {jobs}")

    # -- SIGTERM during load: every accepted request is answered and recorded -------------------
    slow = await a.http.post(
        "/api/v1/llm-clients/",
        headers=admin,
        json={"name": "slowpoke", "provider": "local", "default_model": "slow"},
    )
    slow_id = slow.json()["id"]
    await a.http.post(f"/api/v1/llm-clients/{slow_id}/deploy/", headers=admin)

    async def slow_ready() -> bool:
        status = await a.http.get(f"/api/v1/llm-clients/{slow_id}/", headers=admin)
        return bool(status.json()["ready"])

    await until(slow_ready, HANG_GUARD, "the slow client to be ready")
    slow_host = slow.json()["default_host"]
    asked = len(upstream.chat_requests())
    in_flight = [asyncio.create_task(a.chat(slow_host, text=f"q{n}")) for n in range(8)]

    async def all_upstream() -> bool:  # all eight are inside A, waiting for the model
        return len(upstream.chat_requests()) - asked == len(in_flight)

    await until(all_upstream, HANG_GUARD, "the requests to reach the upstream")
    a.process.send_signal(signal.SIGTERM)
    answered = await asyncio.gather(*in_flight)
    assert [r.status_code for r in answered] == [200] * len(in_flight)
    # uvicorn finishes, then ends the process with the signal it caught (it re-raises it).
    assert await asyncio.to_thread(a.process.wait, 30) in (0, -signal.SIGTERM)
    ids = [r.json()["request_id"] for r in answered]
    async with p.container() as request:
        sessions = await request.get(async_sessionmaker[AsyncSession])
        async with sessions() as session:
            stored = await session.scalars(
                select(ChatRequestRow.request_id).where(ChatRequestRow.request_id.in_(ids))
            )
            assert sorted(stored) == sorted(ids)
    assert (await b.chat(slow_host)).status_code == 200  # B still serves
