"""The platform under test for `smarter worker` end-to-end tests: real worker processes on
Redis and PostgreSQL, Route 53 (moto's server, recording every request where it arrives), DNS
answered by the test DNS server from those zones, and the Kubernetes API stand-in playing
cert-manager.

`platform_under_test(...)` gives a `Platform` with a fresh platform zone, its own queue and
Redis prefix, and `extra` settings on top of quick test defaults; the test changes desired
state through the use cases (what the console API and CLI do) and starts workers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from dishka import AsyncContainer

from smarter.application import accounts, llm_clients
from smarter.application.ports import UnitOfWork
from smarter.domain.account_number import AccountNumber
from smarter.domain.accounts import Principal
from smarter.domain.llm_client import LLMClient, LLMClientSpec
from smarter.entrypoints.settings import load_settings
from smarter.entrypoints.wiring import make_container
from tests.integration.conftest import empty_database
from tests.support.dns_server import ZoneDnsServer
from tests.support.kubernetes_api import KubernetesApiServer
from tests.support.route53_server import Route53Process

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
INGRESS_TARGET = "203.0.113.7"
NAMESPACE = "smarter"
PYTHON = sys.executable


@dataclasses.dataclass
class Platform:
    env: dict[str, str]
    zone_id: str
    zone_name: str
    route53: Any
    kubernetes: KubernetesApiServer
    route53_server: Route53Process
    container: AsyncContainer
    logs: Path
    workers: list[subprocess.Popen[bytes]] = dataclasses.field(default_factory=list)

    # processes

    def start_worker(self, **extra: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"worker-{len(self.workers)}.log").open("wb")
        process = subprocess.Popen(
            [PYTHON, "-m", "smarter.entrypoints.cli", "worker"],
            env={**self.env, **extra},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.workers.append(process)
        return process

    async def cli(self, *args: str) -> None:
        """Run a `smarter` command against this platform (as an operator would)."""
        done = await asyncio.to_thread(
            subprocess.run,
            [PYTHON, "-m", "smarter.entrypoints.cli", *args],
            env=self.env,
            capture_output=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr.decode()

    async def workers_up(self, count: int) -> None:
        """Wait until `count` workers of this queue have registered in Redis."""
        from redis import asyncio as aioredis

        redis = aioredis.from_url(REDIS_URL)
        stats = f"saq:{self.env['SMARTER_QUEUE_NAME']}:stats"
        try:

            async def registered() -> bool:
                return int(await redis.zcount(stats, int(time.time() * 1000), "+inf")) >= count

            await until(registered, 30.0, f"{count} worker(s) to start")
        finally:
            await redis.aclose()

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop_workers(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                self.kill(process)  # the tests are over: no need to wait for a graceful stop

    # desired state, through the use cases

    async def account(self, number: str) -> Principal:
        async with self.container() as request:
            await (await request.get(accounts.CreateAccount))(
                name="E2E", admin_username="admin", number=AccountNumber(number)
            )
            return await (await request.get(accounts.ActAs))(AccountNumber(number))

    async def create(self, principal: Principal, name: str) -> int:
        async with self.container() as request:
            create = await request.get(llm_clients.CreateLLMClient)
            client = await create(principal, LLMClientSpec(name=name, provider="echo"))
            assert client.id is not None
            return client.id

    async def deploy(self, principal: Principal, client_id: int) -> None:
        async with self.container() as request:
            await (await request.get(llm_clients.DeployLLMClient))(principal, client_id)

    async def undeploy(self, principal: Principal, client_id: int) -> None:
        async with self.container() as request:
            await (await request.get(llm_clients.UndeployLLMClient))(principal, client_id)

    # observed state

    async def client(self, principal: Principal, client_id: int) -> LLMClient:
        async with self.container() as request:
            uow: UnitOfWork = await request.get(UnitOfWork)
            return await uow.clients.get(principal.account_number, client_id)

    async def steps(self, client_id: int) -> list[str]:
        async with self.container() as request:
            uow: UnitOfWork = await request.get(UnitOfWork)
            return [event.to_status for event in await uow.clients.events(client_id)]

    def records(self, host: str) -> list[dict[str, Any]]:
        found = self.route53.list_resource_record_sets(
            HostedZoneId=self.zone_id, StartRecordName=host, MaxItems="10"
        )["ResourceRecordSets"]
        return [r for r in found if r["Name"].rstrip(".") == host]

    def certificates(self) -> list[dict[str, Any]]:
        return self.kubernetes.objects("Certificate", NAMESPACE)

    def ingresses(self, host: str | None = None) -> list[dict[str, Any]]:
        found = self.kubernetes.objects("Ingress", NAMESPACE)
        if host is None:
            return found
        return [i for i in found if i["spec"]["rules"][0]["host"] == host]


async def until(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> float:
    """Poll `check` until it holds; the seconds it took."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < seconds, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


@asynccontextmanager
async def platform_under_test(
    postgres_url: str,
    route53_server: Route53Process,
    route53_client: Any,
    dns_server: ZoneDnsServer,
    kubernetes_api: KubernetesApiServer,
    logs: Path,
    **settings: str,
) -> AsyncIterator[Platform]:
    await empty_database(postgres_url)
    root = f"w{uuid.uuid4().hex[:10]}.test"
    zone_name = f"alpha.api.{root}"
    zone = route53_client.create_hosted_zone(Name=zone_name, CallerReference=uuid.uuid4().hex)
    zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
    dns_server.delegate(zone_name, zone_id)
    smarter = {
        "SMARTER_ENVIRONMENT": "alpha",
        "SMARTER_ROOT_DOMAIN": root,
        "SMARTER_DATABASE_URL": postgres_url,
        "SMARTER_REDIS_URL": REDIS_URL,
        "SMARTER_QUEUE_NAME": f"e2e-{uuid.uuid4().hex[:10]}",
        "SMARTER_DEMO": "false",
        "SMARTER_ROUTE53_ENDPOINT_URL": route53_server.url,
        "SMARTER_AWS_REGION": "us-east-1",
        "SMARTER_PLATFORM_ZONE": zone_name,
        "SMARTER_INGRESS_TARGET": INGRESS_TARGET,
        "SMARTER_DNS_NAMESERVERS": f"127.0.0.1:{dns_server.port}",
        "SMARTER_KUBERNETES_API_URL": kubernetes_api.url,
        "SMARTER_KUBERNETES_NAMESPACE": NAMESPACE,
        "SMARTER_CERTIFICATE_ISSUER": "cert-manager",
        "SMARTER_WORKER_JOB_TIMEOUT_SECONDS": "4",
        "SMARTER_WORKER_CONCURRENCY": "8",
        "SMARTER_PROVISIONING_FIRST_RETRY_SECONDS": "0.2",
        "SMARTER_PROVISIONING_MAX_RETRY_SECONDS": "1",
        "SMARTER_OUTBOX_POLL_SECONDS": "0.1",
        "SMARTER_LOG_LEVEL": os.environ.get("E2E_LOG_LEVEL", "warning"),
        "SMARTER_REDIS_PREFIX": f"e2e-{uuid.uuid4().hex[:10]}",
        **settings,
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTER_")} | smarter
    container = make_container(load_settings(smarter))
    result = Platform(
        env=env,
        zone_id=zone_id,
        zone_name=zone_name,
        route53=route53_client,
        kubernetes=kubernetes_api,
        route53_server=route53_server,
        container=container,
        logs=logs,
    )
    try:
        yield result
    finally:
        result.stop_workers()
        await container.close()
        dns_server.undelegate(zone_name)
        await _forget_redis(smarter["SMARTER_QUEUE_NAME"], smarter["SMARTER_REDIS_PREFIX"])


async def _forget_redis(name: str, prefix: str) -> None:
    from redis import asyncio as aioredis

    redis = aioredis.from_url(REDIS_URL)
    patterns = (f"saq:{name}:*", f"saq:job:{name}:*", f"smarter:queue:{name}:*", f"{prefix}:*")
    for pattern in patterns:
        keys = [key async for key in redis.scan_iter(match=pattern, count=500)]
        if keys:
            await redis.delete(*keys)
    await redis.aclose()
