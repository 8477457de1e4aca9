"""`smarter worker` end to end: real worker processes on Redis, PostgreSQL, Route 53 (moto's
server, which records every request where it arrives), DNS answered by the test DNS server from
those zones, and the Kubernetes API stand-in playing cert-manager (`auto_issue`).

The test process changes desired state through the use cases (what the console API and CLI
do); the worker subprocesses relay the outbox and provision. Checked: deploy → ready with one
record, one certificate and one Ingress; undeploy removes them; SIGKILL of the worker after
each status step converges with no duplicates; quick deploy/undeploy/deploy ends in the last
wish; two workers on 50 clients provision nothing twice.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from smarter.application.ports import ClientFilter, UnitOfWork
from smarter.domain.accounts import Principal
from tests.integration.conftest import fresh_database
from tests.integration.provisioning.worker_platform import (
    INGRESS_TARGET,
    Platform,
    platform_under_test,
    until,
)
from tests.support.dns_server import ZoneDnsServer
from tests.support.kubernetes_api import KubernetesApiServer
from tests.support.route53_server import Route53Process


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
    route53_server: Route53Process,
    route53_client: Any,
    dns_server: ZoneDnsServer,
    kubernetes_api: KubernetesApiServer,
    tmp_path: Path,
) -> AsyncIterator[Platform]:
    async with platform_under_test(
        postgres_url, route53_server, route53_client, dns_server, kubernetes_api, tmp_path
    ) as platform:
        yield platform


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
    assert p.route53_server.upserts_of(host) == 1

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
    assert p.route53_server.upserts_of(host) == 1
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
    upserts = p.route53_server.upserts()
    assert all(upserts[host] == 1 for host in hosts)
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
