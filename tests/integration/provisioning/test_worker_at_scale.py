"""`smarter worker` at scale within Route 53's quotas, with real worker processes: record
changes of many hosts go out in few change batches, two workers share one request budget
(counted where the requests arrive), and throttled answers are retried until all is ready."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smarter.application import custom_domains
from smarter.application.ports import ClientFilter, UnitOfWork
from smarter.domain.accounts import Principal
from tests.integration.conftest import fresh_database
from tests.integration.provisioning.worker_platform import (
    Platform,
    platform_under_test,
    until,
)
from tests.support.dns_server import ZoneDnsServer
from tests.support.kubernetes_api import KubernetesApiServer
from tests.support.route53_server import Route53Process

Deployed = list[tuple[Principal, int]]


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database("postgresql", tmp_path_factory.mktemp("scale")) as url:
        yield url


@pytest.fixture
def kubernetes_api() -> Iterator[KubernetesApiServer]:
    with KubernetesApiServer(auto_issue=0.2) as server:
        yield server


@pytest.fixture
def harness(
    postgres_url: str,
    route53_server: Route53Process,
    route53_client: Any,
    dns_server: ZoneDnsServer,
    kubernetes_api: KubernetesApiServer,
    tmp_path: Path,
) -> Any:
    def start(**settings: str) -> Any:
        return platform_under_test(
            postgres_url,
            route53_server,
            route53_client,
            dns_server,
            kubernetes_api,
            tmp_path,
            **settings,
        )

    return start


@pytest.fixture
def propagating(route53_server: Route53Process) -> Iterator[Route53Process]:
    """Change batches stay PENDING for a second, as on AWS (and block their zone meanwhile)."""
    route53_server.propagation_seconds = 1.0
    yield route53_server
    route53_server.propagation_seconds = None


async def deploy(p: Platform, accounts: int, per_account: int, first: int) -> Deployed:
    deployed = []
    for a in range(accounts):
        principal = await p.account(f"2000-3000-{first + a:04d}")
        for n in range(per_account):
            client_id = await p.create(principal, f"bot-{n}")
            await p.deploy(principal, client_id)
            deployed.append((principal, client_id))
    return deployed


async def all_ready(p: Platform, clients: Deployed) -> bool:
    await asyncio.sleep(0.2)
    async with p.container() as request:
        uow: UnitOfWork = await request.get(UnitOfWork)
        for principal in {principal for principal, _ in clients}:
            page = await uow.clients.page(principal.account_number, ClientFilter(limit=200))
            if not all(client.ready for client in page.items):
                return False
    return True


async def hosts_of(p: Platform, clients: Deployed) -> list[str]:
    return [(await p.client(principal, cid)).default_host for principal, cid in clients]


async def test_many_hosts_go_out_in_few_change_batches_each_followed_by_one_poll_at_a_time(
    harness: Any, propagating: Route53Process
) -> None:
    since = time.monotonic()
    async with harness() as p:
        clients = await deploy(p, accounts=4, per_account=15, first=1)
        p.start_worker()
        p.start_worker()
        await until(lambda: all_ready(p, clients), 60.0, "60 clients to be ready")

        hosts = await hosts_of(p, clients)
        batches = propagating.operations("ChangeResourceRecordSets", since)
        polls = propagating.operations("GetChange", since)
        print(f"\n60 hosts: {len(batches)} change batches, {len(polls)} GetChange polls")
        assert len(batches) <= 6
        assert len(polls) < len(hosts) / 2  # per batch, not per host
        upserts = propagating.upserts()
        assert all(upserts[host] == 1 for host in hosts)
        assert not propagating.operations("PriorRequestNotComplete", since)


async def test_two_workers_share_one_route53_request_budget_counted_at_the_server(
    harness: Any, route53_server: Route53Process
) -> None:
    rate, burst = 8, 2
    budget = {
        "SMARTER_ROUTE53_REQUESTS_PER_SECOND": str(rate),
        "SMARTER_ROUTE53_REQUESTS_BURST": str(burst),
    }
    async with harness(**budget) as p:
        # Each registration makes a zone and its marker: a few Route 53 requests apiece.
        domains = []
        for n in range(12):
            principal = await p.account(f"2000-4000-{n:04d}")
            async with p.container() as request:
                register = await request.get(custom_domains.RegisterCustomDomain)
                domain = await register(principal, f"d{n}.{p.zone_name}.customer.test")
                domains.append((principal, domain.id or 0))
        since = time.monotonic()
        p.start_worker()
        p.start_worker()

        async def zones_made() -> bool:
            await asyncio.sleep(0.2)
            async with p.container() as request:
                get = await request.get(custom_domains.GetCustomDomain)
                found = [await get(principal, domain_id) for principal, domain_id in domains]
            return all(domain.aws_hosted_zone_id for domain in found)

        await until(zones_made, 60.0, "12 zones to be made")

        busiest = route53_server.busiest_second(since)
        total = len(route53_server.operations(since=since))
        print(f"\n{total} Route 53 requests from two workers; busiest second: {busiest}")
        print(
            [(round(r.at - since, 3), r.operation) for r in route53_server.operations(since=since)]
        )
        assert total > 2 * (rate + burst)  # enough to break the budget without one
        assert busiest <= burst + rate


async def test_throttled_and_busy_answers_are_retried_until_every_client_is_ready(
    harness: Any, route53_server: Route53Process
) -> None:
    async with harness() as p:
        clients = await deploy(p, accounts=2, per_account=5, first=50)
        route53_server.refuse_next(4, "Throttling")
        route53_server.refuse_next(2, "PriorRequestNotComplete")
        p.start_worker()
        await until(lambda: all_ready(p, clients), 60.0, "10 clients to be ready")

        assert route53_server.refusals_left == 0
        hosts = await hosts_of(p, clients)
        upserts = route53_server.upserts()
        assert all(upserts[host] == 1 for host in hosts)
