"""`smarter worker` end to end: real worker processes on Redis, PostgreSQL, Route 53 (moto's
server, behind a proxy that counts change batches), DNS answered by the test DNS server from
those zones, and the Kubernetes API stand-in playing cert-manager (`auto_issue`).

The test process changes desired state through the use cases (what the console API and CLI
do); the worker subprocesses relay the outbox and provision. Checked: deploy → ready with one
record, one certificate and one Ingress; undeploy removes them; SIGKILL of the worker after
each status step converges with no duplicates; quick deploy/undeploy/deploy ends in the last
wish; two workers on 50 clients provision nothing twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from dishka import AsyncContainer

from smarter.application import accounts, llm_clients
from smarter.application.ports import ClientFilter, UnitOfWork
from smarter.domain.account_number import AccountNumber
from smarter.domain.accounts import Principal
from smarter.domain.llm_client import LLMClient, LLMClientSpec
from smarter.entrypoints.settings import load_settings
from smarter.entrypoints.wiring import make_container
from tests.integration.conftest import empty_database, fresh_database
from tests.support.dns_server import ZoneDnsServer
from tests.support.kubernetes_api import KubernetesApiServer

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
INGRESS_TARGET = "203.0.113.7"
NAMESPACE = "smarter"
PYTHON = sys.executable


# -- Route 53 change batches, counted on the wire -------------------------------------------


class CountingProxy:
    """Forwards HTTP to moto's server and records every ChangeResourceRecordSets body."""

    def __init__(self, target: str) -> None:
        self.changes: list[str] = []
        self._lock = threading.Lock()
        parsed = urlsplit(target)
        host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.command == "POST" and self.path.rstrip("/").endswith("/rrset"):
                    with proxy._lock:
                        proxy.changes.append(body.decode())
                upstream = HTTPConnection(host, port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "content-length", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = do_DELETE = do_PUT = _forward  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def upserts_of(self, host: str) -> int:
        with self._lock:
            return sum(1 for body in self.changes if "UPSERT" in body and f"<Name>{host}" in body)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# -- the platform under test ----------------------------------------------------------------


@dataclasses.dataclass
class Platform:
    env: dict[str, str]
    zone_id: str
    zone_name: str
    route53: Any
    kubernetes: KubernetesApiServer
    proxy: CountingProxy
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


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database("postgresql", tmp_path_factory.mktemp("e2e")) as url:
        yield url


@pytest.fixture
def kubernetes_api() -> Iterator[KubernetesApiServer]:
    # auto_issue plays cert-manager: a Certificate is issued this long after it is written.
    with KubernetesApiServer(auto_issue=0.2) as server:
        yield server


@pytest.fixture
async def platform(
    postgres_url: str,
    moto_endpoint: str,
    route53_client: Any,
    dns_server: ZoneDnsServer,
    kubernetes_api: KubernetesApiServer,
    tmp_path: Path,
) -> AsyncIterator[Platform]:
    await empty_database(postgres_url)
    root = f"w{uuid.uuid4().hex[:10]}.test"
    zone_name = f"alpha.api.{root}"
    zone = route53_client.create_hosted_zone(Name=zone_name, CallerReference=uuid.uuid4().hex)
    zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
    dns_server.delegate(zone_name, zone_id)
    proxy = CountingProxy(moto_endpoint)
    smarter = {
        "SMARTER_ENVIRONMENT": "alpha",
        "SMARTER_ROOT_DOMAIN": root,
        "SMARTER_DATABASE_URL": postgres_url,
        "SMARTER_REDIS_URL": REDIS_URL,
        "SMARTER_QUEUE_NAME": f"e2e-{uuid.uuid4().hex[:10]}",
        "SMARTER_DEMO": "false",
        "SMARTER_ROUTE53_ENDPOINT_URL": proxy.url,
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
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTER_")} | smarter
    container = make_container(load_settings(smarter))
    result = Platform(
        env=env,
        zone_id=zone_id,
        zone_name=zone_name,
        route53=route53_client,
        kubernetes=kubernetes_api,
        proxy=proxy,
        container=container,
        logs=tmp_path,
    )
    try:
        yield result
    finally:
        result.stop_workers()
        await container.close()
        proxy.stop()
        dns_server.undelegate(zone_name)
        await _forget_queue(smarter["SMARTER_QUEUE_NAME"])


async def _forget_queue(name: str) -> None:
    from redis import asyncio as aioredis

    redis = aioredis.from_url(REDIS_URL)
    for pattern in (f"saq:{name}:*", f"saq:job:{name}:*", f"smarter:queue:{name}:*"):
        keys = [key async for key in redis.scan_iter(match=pattern, count=500)]
        if keys:
            await redis.delete(*keys)
    await redis.aclose()


# -- the tests ------------------------------------------------------------------------------


async def _provisioned_once(p: Platform, principal: Principal, client_id: int) -> None:
    """Ready, with exactly one record, one certificate and one Ingress for its host."""
    client = await p.client(principal, client_id)
    assert client.ready, (client.dns_verification_status, client.tls_certificate_issuance_status)
    host = client.default_host
    records = p.records(host)
    assert len(records) == 1
    assert [r["Value"] for r in records[0]["ResourceRecords"]] == [INGRESS_TARGET]
    assert len(p.ingresses(host)) == 1
    assert len(p.certificates()) == 1  # the account's wildcard


async def test_a_deploy_is_ready_with_one_record_certificate_and_ingress_and_undeploy_removes_them(
    platform: Platform,
) -> None:
    p = platform
    principal = await p.account("1000-2000-3001")
    client_id = await p.create(principal, "helpdesk")
    worker = p.start_worker()
    await p.workers_up(1)

    async def ready() -> bool:
        return (await p.client(principal, client_id)).ready

    started = time.monotonic()
    await p.deploy(principal, client_id)  # what the console API's deploy endpoint does
    await until(ready, 30.0, "the deploy to be ready")
    print(f"\ndeploy → ready end to end: {time.monotonic() - started:.2f} s")
    await _provisioned_once(p, principal, client_id)
    steps = await p.steps(client_id)
    assert [s for s in steps if s in ("Verifying", "Verified", "Requested", "Issued")] == [
        "Verifying",
        "Verified",
        "Requested",
        "Issued",
    ]
    host = (await p.client(principal, client_id)).default_host
    assert p.proxy.upserts_of(host) == 1

    await p.undeploy(principal, client_id)

    async def gone() -> bool:
        client = await p.client(principal, client_id)
        return (
            client.dns_verification_status == "Not Verified"
            and not p.records(host)
            and not p.ingresses()
            and not p.certificates()
        )

    took = await until(gone, 30.0, "the undeploy to remove everything")
    print(f"undeploy → removed: {took:.2f} s")
    client = await p.client(principal, client_id)
    assert client.tls_certificate_issuance_status == "No Certificate"

    # The operator's way: `smarter clients deploy` (a process of its own, like the console).
    await p.cli("clients", "deploy", "--account", "1000-2000-3001", "helpdesk")
    await until(ready, 30.0, "the deploy from the CLI to be ready")
    await _provisioned_once(p, principal, client_id)

    worker.send_signal(signal.SIGTERM)  # a graceful stop: running jobs finish, then exit 0
    assert await asyncio.to_thread(worker.wait, 20) == 0


async def test_a_worker_killed_after_each_step_is_replaced_and_the_deploy_converges(
    platform: Platform,
) -> None:
    p = platform
    principal = await p.account("1000-2000-3002")
    client_id = await p.create(principal, "crashy")
    worker = p.start_worker()
    await p.deploy(principal, client_id)
    killed_after: set[str] = set()
    for step in ("Verifying", "Verified", "Requested", "Issued"):

        async def reached(step: str = step) -> bool:
            return step in await p.steps(client_id)

        await until(reached, 40.0, f"the step {step}")
        if step in killed_after:
            continue  # one run took two steps (Verified and Requested): killed after both
        p.kill(worker)  # SIGKILL: no cleanup at all, whatever the worker was doing
        killed_after.update(await p.steps(client_id))
        worker = p.start_worker()

    async def ready() -> bool:
        return (await p.client(principal, client_id)).ready

    took = await until(ready, 30.0, "the deploy to converge")
    print(f"\nconverged {took:.2f} s after the last kill")
    await _provisioned_once(p, principal, client_id)
    host = (await p.client(principal, client_id)).default_host
    assert p.proxy.upserts_of(host) == 1
    assert len(p.kubernetes.requests_to("PATCH", "Ingress")) <= 2  # re-applied at most once


async def test_deploy_undeploy_deploy_in_quick_succession_ends_in_the_last_wish(
    platform: Platform,
) -> None:
    p = platform
    principal = await p.account("1000-2000-3003")
    first = await p.create(principal, "flip")
    second = await p.create(principal, "flop")
    p.start_worker()
    for client_id in (first, second):
        await p.deploy(principal, client_id)
        await p.undeploy(principal, client_id)
        await p.deploy(principal, client_id)
    await p.undeploy(principal, second)  # the second ends undeployed

    second_host = (await p.client(principal, second)).default_host

    async def settled() -> bool:
        one = await p.client(principal, first)
        two = await p.client(principal, second)
        return (
            one.ready
            and two.dns_verification_status == "Not Verified"
            and not p.records(second_host)
            and not p.ingresses(second_host)
        )

    await until(settled, 40.0, "both clients to reach their last wish")
    await _provisioned_once(p, principal, first)
    assert len(p.ingresses()) == 1


async def test_two_workers_on_fifty_clients_provision_nothing_twice(platform: Platform) -> None:
    p = platform
    principals = [await p.account(f"1000-2000-40{n:02d}") for n in range(5)]
    clients = [
        (principal, await p.create(principal, f"bot-{n}"))
        for principal in principals
        for n in range(10)
    ]
    for principal, client_id in clients:
        await p.deploy(principal, client_id)
    started = time.monotonic()
    p.start_worker(SMARTER_WORKER_JOB_TIMEOUT_SECONDS="15")
    p.start_worker(SMARTER_WORKER_JOB_TIMEOUT_SECONDS="15")
    await p.workers_up(2)

    async def all_ready() -> bool:
        await asyncio.sleep(0.2)
        async with p.container() as request:
            uow: UnitOfWork = await request.get(UnitOfWork)
            for principal in principals:
                page = await uow.clients.page(principal.account_number, ClientFilter(limit=20))
                if not all(client.ready for client in page.items):
                    return False
        return True

    await until(all_ready, 60.0, "50 clients to be ready")
    took = time.monotonic() - started
    print(f"\n50 clients ready with two workers in {took:.2f} s (worker start included)")
    hosts = [(await p.client(principal, cid)).default_host for principal, cid in clients]
    assert all(p.proxy.upserts_of(host) == 1 for host in hosts)
    assert all(len(p.records(host)) == 1 for host in hosts)
    applies = Counter(
        r.path.rsplit("/", 1)[-1] for r in p.kubernetes.requests_to("PATCH", "Ingress")
    )
    assert len(applies) == 50
    assert set(applies.values()) == {1}
    assert len(p.certificates()) == 5  # one wildcard per account
    writes = Counter(
        r.path.rsplit("/", 1)[-1]
        for method in ("POST", "PATCH")
        for r in p.kubernetes.requests_to(method, "Certificate")
        if not r.path.endswith("/status")
    )
    assert set(writes.values()) == {1}, writes
    for _principal, client_id in clients:
        steps = await p.steps(client_id)
        assert len(steps) == len(set(steps)), steps  # every transition happened once
