"""Provisioning at scale: clients across 20 accounts deployed at once, two `smarter worker`
processes, against moto's Route 53 (which records every request where it arrives and keeps
change batches PENDING for a while, as AWS does), the DNS test server and the Kubernetes API
stand-in playing cert-manager.

For each size (100 and 1,000 clients by default) it creates the accounts and clients, starts
the workers, deploys every client as fast as the use case takes them, and waits until all are
ready (DNS Verified, TLS Issued). Then it reports, from what the stand-ins saw:

- the time from the first deploy to all ready, and how it grows with the number of clients;
- Route 53 requests: in all, per second on average, and in the busiest one-second window
  (which must stay within the budget: burst + requests per second);
- change batches and GetChange polls; UPSERTs per host and Ingress writes per host (each
  exactly once); certificates (one wildcard per account).

Run: `make bench-provisioning` (or `python bench/provisioning.py --clients 100,1000`).
Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 (the test command's set-up).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.route53_server import REQUEST_LOG, Route53Process  # noqa: E402

from smarter.adapters.sql.migrations import upgrade_to_head  # noqa: E402
from smarter.application import accounts, llm_clients  # noqa: E402
from smarter.domain.account_number import AccountNumber  # noqa: E402
from smarter.domain.accounts import Principal  # noqa: E402
from smarter.domain.llm_client import LLMClientSpec  # noqa: E402
from smarter.entrypoints.settings import load_settings  # noqa: E402
from smarter.entrypoints.wiring import make_container  # noqa: E402

PYTHON = sys.executable
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/0"
NAMESPACE = "smarter"
INGRESS_TARGET = "203.0.113.7"


@dataclass
class Result:
    clients: int
    accounts: int
    deploy_seconds: float
    ready_seconds: float
    route53_requests: int
    busiest_second: int
    budget: int
    change_batches: int
    get_change: int
    upserts_per_host: Counter[int]
    ingress_writes_per_host: Counter[int]
    certificates: int

    @property
    def requests_per_second(self) -> float:
        return self.route53_requests / max(self.ready_seconds, 0.001)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=30) as answer:
        document: dict[str, object] = json.loads(answer.read())
        return document


@contextlib.contextmanager
def processes(logs: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    try:
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in started:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


def spawn(
    running: list[subprocess.Popen[bytes]],
    logs: Path,
    name: str,
    module: str,
    *args: object,
    env: dict[str, str],
) -> subprocess.Popen[bytes]:
    """`python -m module` with `args` (a number right after the module is its --port)."""
    options = [str(a) for a in args]
    if args and isinstance(args[0], int):
        options = ["--port", *options]
    log = (logs / f"{name}.log").open("wb")
    process = subprocess.Popen(
        [PYTHON, "-m", module, *options], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    running.append(process)
    return process


async def postgres(statement: str) -> None:
    connection = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def measure(clients: int, accounts_: int, workers: int, logs: Path, propagation: float) -> Result:
    database = f"smarter_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(postgres(f'CREATE DATABASE "{database}"'))
    url = f"{POSTGRES}/{database}"
    try:
        upgrade_to_head(url)
        with processes(logs) as running:
            return run(url, clients, accounts_, workers, running, logs / str(clients), propagation)
    finally:
        asyncio.run(postgres(f'DROP DATABASE IF EXISTS "{database}" (FORCE)'))


def run(
    database_url: str,
    clients: int,
    account_count: int,
    workers: int,
    running: list[subprocess.Popen[bytes]],
    logs: Path,
    propagation: float,
) -> Result:
    logs.mkdir(parents=True, exist_ok=True)
    aws = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    os.environ.update(aws)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTER_")}
    dns_port, kubernetes_port = free_port(), free_port()
    kubernetes_url = f"http://127.0.0.1:{kubernetes_port}"
    route53 = Route53Process(propagation_seconds=propagation).start()
    route53_url, direct_url = route53.url, route53.direct_url
    spawn(
        running,
        logs,
        "kubernetes",
        "tests.support.kubernetes_api",
        kubernetes_port,
        "--auto-issue",
        1.0,
        env=base_env,
    )
    spawn(
        running,
        logs,
        "dns",
        "tests.support.dns_server",
        dns_port,
        "--endpoint",
        direct_url,
        env=base_env,
    )
    wait_for(f"{kubernetes_url}{REQUEST_LOG}")

    root = f"b{uuid.uuid4().hex[:8]}.test"
    zone_name = f"alpha.api.{root}"
    _create_zone(direct_url, zone_name)
    settings = {
        "SMARTER_ENVIRONMENT": "alpha",
        "SMARTER_ROOT_DOMAIN": root,
        "SMARTER_DATABASE_URL": database_url,
        "SMARTER_REDIS_URL": REDIS,
        "SMARTER_REDIS_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",
        "SMARTER_QUEUE_NAME": f"bench-{uuid.uuid4().hex[:8]}",
        "SMARTER_DEMO": "false",
        "SMARTER_ROUTE53_ENDPOINT_URL": route53_url,
        "SMARTER_AWS_REGION": "us-east-1",
        "SMARTER_PLATFORM_ZONE": zone_name,
        "SMARTER_INGRESS_TARGET": INGRESS_TARGET,
        "SMARTER_DNS_NAMESERVERS": f"127.0.0.1:{dns_port}",
        "SMARTER_KUBERNETES_API_URL": kubernetes_url,
        "SMARTER_KUBERNETES_NAMESPACE": NAMESPACE,
        "SMARTER_CERTIFICATE_ISSUER": "cert-manager",
        "SMARTER_LOG_LEVEL": "warning",
    }
    try:
        clients_made = asyncio.run(_create(settings, clients, account_count))
        for n in range(workers):
            worker = spawn(
                running,
                logs,
                f"worker-{n}",
                "smarter.entrypoints.cli",
                "worker",
                env=base_env | settings,
            )
            if n == 0 and os.environ.get("BENCH_PROFILE"):
                _profile(worker.pid, os.environ["BENCH_PROFILE"])
        asyncio.run(_workers_up(settings["SMARTER_QUEUE_NAME"], workers))
        time.sleep(2.0)  # the DNS server has picked up the platform's zone
        started = time.monotonic()
        deployed, ready = asyncio.run(_deploy_all(settings, clients_made, started))
        kubernetes = get_json(f"{kubernetes_url}{REQUEST_LOG}")
        return _result(clients, account_count, deployed, ready, started, route53, kubernetes)
    finally:
        asyncio.run(_forget_redis(settings["SMARTER_QUEUE_NAME"], settings["SMARTER_REDIS_PREFIX"]))
        route53.stop()


def _profile(pid: int, output: str) -> None:
    """py-spy on a worker (for whoever tunes it; `BENCH_PROFILE=<file>`)."""
    subprocess.Popen(
        [
            str(Path(PYTHON).parent / "py-spy"),
            "record",
            "--format",
            "raw",
            "-o",
            output,
            "--pid",
            str(pid),
            "--duration",
            "60",
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _deploy_all(
    settings: dict[str, str], clients: list[tuple[Principal, int]], started: float
) -> tuple[float, float]:
    """Deploy every client; (seconds until all deploys were taken, until all were ready)."""
    container = make_container(load_settings(settings))
    try:
        async with container() as request:
            deploy = await request.get(llm_clients.DeployLLMClient)
            for principal, client_id in clients:
                await deploy(principal, client_id)
        deployed = time.monotonic() - started
        print(f"  {len(clients)} deploys taken in {deployed:.1f} s; waiting for all ready ...")
        async with container() as request:
            engine = await request.get(AsyncEngine)
        await _all_ready(engine, len(clients))
        return deployed, time.monotonic() - started
    finally:
        await container.close()


def _create_zone(direct_url: str, name: str) -> None:
    import boto3

    client = boto3.client(
        "route53",
        region_name="us-east-1",
        endpoint_url=direct_url,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    client.create_hosted_zone(Name=name, CallerReference=uuid.uuid4().hex)


async def _create(
    settings: dict[str, str], clients: int, account_count: int
) -> list[tuple[Principal, int]]:
    made: list[tuple[Principal, int]] = []
    container = make_container(load_settings(settings))
    async with container() as request:
        create_account = await request.get(accounts.CreateAccount)
        act_as = await request.get(accounts.ActAs)
        create = await request.get(llm_clients.CreateLLMClient)
        owners = []
        for n in range(account_count):
            number = AccountNumber(f"7000-{n // 10000:04d}-{n % 10000:04d}")
            await create_account(name=f"Bench {n}", admin_username="admin", number=number)
            owners.append(await act_as(number))
        for n in range(clients):
            owner = owners[n % account_count]
            client = await create(owner, LLMClientSpec(name=f"bot-{n}", provider="echo"))
            made.append((owner, client.id or 0))
    await container.close()
    return made


async def _workers_up(queue: str, count: int) -> None:
    from redis import asyncio as aioredis

    redis = aioredis.from_url(REDIS)
    try:
        for _ in range(600):
            up = await redis.zcount(f"saq:{queue}:stats", int(time.time() * 1000), "+inf")
            if int(up) >= count:
                return
            await asyncio.sleep(0.1)
        raise RuntimeError("the workers did not start (see their logs)")
    finally:
        await redis.aclose()


async def _all_ready(engine: AsyncEngine, clients: int, seconds: float = 600.0) -> None:
    deadline = time.monotonic() + seconds
    ready_sql = text(
        "SELECT count(*) FROM llm_clients WHERE deployed AND dns_verification_status = "
        "'Verified' AND tls_certificate_issuance_status = 'Issued'"
    )
    last = -1
    while True:
        async with engine.connect() as connection:
            ready = int((await connection.execute(ready_sql)).scalar_one())
        if ready >= clients:
            return
        if ready != last:
            last = ready
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {ready} of {clients} clients ready after {seconds:.0f} s")
        await asyncio.sleep(0.25)


async def _forget_redis(queue: str, prefix: str) -> None:
    from redis import asyncio as aioredis

    redis = aioredis.from_url(REDIS)
    for pattern in (
        f"saq:{queue}:*",
        f"saq:job:{queue}:*",
        f"smarter:queue:{queue}:*",
        f"{prefix}:*",
    ):
        keys = [key async for key in redis.scan_iter(match=pattern, count=1000)]
        if keys:
            await redis.delete(*keys)
    await redis.aclose()


def _result(
    clients: int,
    account_count: int,
    deployed: float,
    ready: float,
    started: float,
    route53: Route53Process,
    kubernetes: dict[str, object],
) -> Result:
    seen = route53.operations(since=started)
    operations = Counter(request.operation for request in seen)
    upserts = route53.upserts(since=started)
    ingress_writes = Counter(
        path.rsplit("/", 1)[-1]
        for method, path in kubernetes["requests"]  # type: ignore[attr-defined]
        if method == "PATCH" and "/ingresses/" in path
    )
    certificates = {
        path.rsplit("/", 1)[-1]
        for method, path in kubernetes["requests"]  # type: ignore[attr-defined]
        if method == "PATCH" and "/certificates/" in path and not path.endswith("/status")
    }
    settings = load_settings({})
    print(f"  Route 53 operations: {dict(operations)}")
    return Result(
        clients=clients,
        accounts=account_count,
        deploy_seconds=deployed,
        ready_seconds=ready,
        route53_requests=len(seen),
        busiest_second=route53.busiest_second(since=started),
        budget=int(settings.route53_requests_burst + settings.route53_requests_per_second),
        change_batches=operations["ChangeResourceRecordSets"],
        get_change=operations["GetChange"],
        upserts_per_host=Counter(upserts.values()),
        ingress_writes_per_host=Counter(ingress_writes.values()),
        certificates=len(certificates),
    )


def report(results: list[Result]) -> bool:
    print()
    print(
        "| clients | accounts | deploys accepted | all ready | Route 53 requests | req/s | "
        "busiest 1 s (budget) | change batches | GetChange | UPSERTs/host | Ingress writes/host |"
        " certificates |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    ok = True
    for r in results:
        once = r.upserts_per_host == Counter({1: r.clients})
        applied_once = r.ingress_writes_per_host == Counter({1: r.clients})
        within = r.busiest_second <= r.budget
        ok = ok and once and applied_once and within and r.certificates == r.accounts
        print(
            f"| {r.clients} | {r.accounts} | {r.deploy_seconds:.1f} s | {r.ready_seconds:.1f} s | "
            f"{r.route53_requests} | {r.requests_per_second:.2f} | {r.busiest_second} "
            f"({r.budget}) | {r.change_batches} | {r.get_change} | "
            f"{dict(r.upserts_per_host)} | {dict(r.ingress_writes_per_host)} | {r.certificates} |"
        )
    if len(results) >= 2:
        small, large = results[0], results[-1]
        growth = large.ready_seconds / max(small.ready_seconds, 0.001)
        print(
            f"\n{large.clients / small.clients:.0f}x the clients took {growth:.1f}x the time "
            f"({small.ready_seconds / small.clients * 1000:.0f} ms per client at {small.clients}, "
            f"{large.ready_seconds / large.clients * 1000:.0f} ms at {large.clients})"
        )
    largest = results[-1]
    print(
        f"target: all {largest.clients} ready within 60 s: "
        f"{'met' if largest.ready_seconds <= 60 else 'MISSED'} ({largest.ready_seconds:.1f} s); "
        f"each record and Ingress written once, one certificate per account, within the "
        f"Route 53 budget: {'yes' if ok else 'NO'}"
    )
    return ok and largest.ready_seconds <= 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="100,1000", help="comma-separated sizes")
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--propagation", type=float, default=2.0, help="seconds a change batch stays PENDING"
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.clients.split(",")]
    logs = Path(tempfile.mkdtemp(prefix="bench-provisioning-"))
    print(f"logs: {logs}")
    results = []
    for size in sizes:
        print(f"{size} clients across {args.accounts} accounts, {args.workers} workers:")
        results.append(measure(size, args.accounts, args.workers, logs, args.propagation))
    sys.exit(0 if report(results) else 1)


if __name__ == "__main__":
    main()
