"""Custom domains end to end, through the real adapters: Route 53 (moto's server), DNS answered
by the test DNS server from those zones, the Kubernetes API stand-in playing cert-manager, and
a real database (SQLite and PostgreSQL).

The container is the one `smarter serve`/`worker` build (environment `alpha`); the test changes
desired state through the use cases and plays the worker itself: it relays the outbox and runs
the jobs in-process, one run at a time, so that it can look between runs. The test is also the
registrar: `dns_server.delegate(domain, zone_id)` points a domain at a hosted zone.

moto hands every zone the same four name servers, so only the marker tells zones apart.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from dishka import AsyncContainer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from smarter.adapters.dnspython_resolver import DnspythonResolver
from smarter.adapters.route53_dns_zones import Route53DnsZones
from smarter.adapters.sql.outbox import SqlOutboxRelay
from smarter.application import accounts, custom_domains, llm_clients
from smarter.application.chat.errors import ClientNotReady
from smarter.application.chat.hosts import FindClientForHost, serving_client
from smarter.application.infrastructure import DnsRecord
from smarter.application.jobs import DeleteDomainZone, Job, ReconcileClient, VerifyCustomDomain
from smarter.application.ports import UnitOfWork
from smarter.application.provisioning import ProvisioningJobs
from smarter.application.views import CustomDomainView, custom_domain_view
from smarter.domain.account_number import AccountNumber
from smarter.domain.accounts import Principal
from smarter.domain.environments import Environment
from smarter.domain.errors import Conflict
from smarter.domain.host_router import HostRouter
from smarter.domain.llm_client import ClientMode, LLMClient, LLMClientSpec
from smarter.domain.provisioning import host_certificate_name, ingress_name
from smarter.entrypoints.settings import Settings
from smarter.entrypoints.wiring import make_container, provisioning_policy
from tests.integration.conftest import fresh_database
from tests.support.dns_server import ZoneDnsServer
from tests.support.kubernetes_api import KubernetesApiServer

INGRESS_TARGET = "203.0.113.9"
NAMESPACE = "smarter"
FIRST = AccountNumber("2100-0000-0001")
SECOND = AccountNumber("2100-0000-0002")


class RecordingQueue:
    """The job queue the relay hands jobs to: the test runs them itself."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []

    async def enqueue(self, job: Job, *, delay_seconds: float = 0.0) -> None:
        self.jobs.append(job)


@dataclass
class World:
    container: AsyncContainer
    relay: SqlOutboxRelay
    queue: RecordingQueue
    route53: Any
    zones: Route53DnsZones
    dns: ZoneDnsServer
    resolver: DnspythonResolver
    kubernetes: KubernetesApiServer
    platform_zone_id: str
    platform_root: str
    delegated: list[str] = field(default_factory=list)

    # -- the customer, through the use cases --------------------------------------------------

    async def account(self, number: AccountNumber) -> Principal:
        async with self.container() as request:
            await (await request.get(accounts.CreateAccount))(
                name=f"Customer {number}", admin_username="admin", number=number
            )
            return await (await request.get(accounts.ActAs))(number)

    async def register(self, principal: Principal, name: str) -> int:
        async with self.container() as request:
            register = await request.get(custom_domains.RegisterCustomDomain)
            domain = await register(principal, name)
        assert domain.id is not None
        return domain.id

    async def view(self, principal: Principal, domain_id: int) -> CustomDomainView:
        """What the console API shows at /api/v1/custom-domains/{id}."""
        async with self.container() as request:
            get = await request.get(custom_domains.GetCustomDomain)
            return custom_domain_view(await get(principal, domain_id))

    async def ask_to_verify(self, principal: Principal, domain_id: int) -> None:
        async with self.container() as request:
            verify = await request.get(custom_domains.RequestDomainVerification)
            await verify(principal, domain_id)

    async def delete_domain(self, principal: Principal, domain_id: int) -> None:
        async with self.container() as request:
            await (await request.get(custom_domains.DeleteCustomDomain))(principal, domain_id)

    async def client(self, principal: Principal, name: str) -> int:
        async with self.container() as request:
            create = await request.get(llm_clients.CreateLLMClient)
            client = await create(principal, LLMClientSpec(name=name, provider="echo"))
        assert client.id is not None
        return client.id

    async def attach(self, principal: Principal, client_id: int, domain_id: int | None) -> None:
        async with self.container() as request:
            attach = await request.get(llm_clients.AttachCustomDomain)
            await attach(principal, client_id, domain_id)

    async def deploy(self, principal: Principal, client_id: int) -> None:
        async with self.container() as request:
            await (await request.get(llm_clients.DeployLLMClient))(principal, client_id)

    async def undeploy(self, principal: Principal, client_id: int) -> None:
        async with self.container() as request:
            await (await request.get(llm_clients.UndeployLLMClient))(principal, client_id)

    async def read_client(self, principal: Principal, client_id: int) -> LLMClient:
        async with self.container() as request:
            uow: UnitOfWork = await request.get(UnitOfWork)
            return await uow.clients.get(principal.account_number, client_id)

    # -- the worker, played in-process ----------------------------------------------------------

    async def queued(self) -> list[Job]:
        """Relay what the outbox holds; the jobs it held (each key once, in order)."""
        while await self.relay.relay_once():
            pass
        jobs, self.queue.jobs = self.queue.jobs, []
        return list({job.key: job for job in jobs}.values())

    async def run(self, job: Job) -> float | None:
        """One run of `job` in its own request scope, as the worker does it."""
        async with self.container() as request:
            return await (await request.get(ProvisioningJobs)).run(job)

    async def run_queued(self) -> dict[str, float | None]:
        """Run each queued job once; what each asked for (None: finished)."""
        return {job.key: await self.run(job) for job in await self.queued()}

    async def finish(self, *jobs: Job, seconds: float = 10.0) -> None:
        """Run `jobs` and the queued ones, and those they queue, until all are done."""
        deadline = time.monotonic() + seconds
        waiting = {job.key: (job, 0.0) for job in jobs}
        while True:
            for job in await self.queued():
                waiting.setdefault(job.key, (job, 0.0))
            if not waiting:
                return
            assert time.monotonic() < deadline, f"jobs still running: {sorted(waiting)}"
            key, (job, due) = min(waiting.items(), key=lambda item: item[1][1])
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            del waiting[key]
            delay = await self.run(job)
            if delay is not None:
                waiting[key] = (job, time.monotonic() + min(delay, 0.3))

    # -- the registrar and what the providers hold ------------------------------------------------

    def delegate(self, domain: str, zone_id: str) -> None:
        self.dns.delegate(domain, zone_id)
        self.delegated.append(domain)

    async def records(self, zone_id: str, name: str, kind: str) -> list[tuple[str, ...]]:
        return [
            r.values for r in await self.zones.records(zone_id) if (r.name, r.type) == (name, kind)
        ]

    def zone_exists(self, zone_id: str) -> bool:
        try:
            self.route53.get_hosted_zone(Id=zone_id)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "NoSuchHostedZone"
            return False
        return True

    def ingress_hosts(self) -> set[str]:
        return {
            i["spec"]["rules"][0]["host"] for i in self.kubernetes.objects("Ingress", NAMESPACE)
        }

    def certificate_names(self) -> set[str]:
        return {c["metadata"]["name"] for c in self.kubernetes.objects("Certificate", NAMESPACE)}


@pytest.fixture
def kubernetes_api() -> Iterator[KubernetesApiServer]:
    # auto_issue plays cert-manager: a Certificate is issued this long after it is written.
    with KubernetesApiServer(auto_issue=0.05) as server:
        yield server


@asynccontextmanager
async def open_world(
    environment: Environment,
    root_domain: str,
    database_url: str,
    route53_client: Any,
    dns_zones: Route53DnsZones,
    dns_server: ZoneDnsServer,
    dns_resolver: DnspythonResolver,
    kubernetes_api: KubernetesApiServer,
) -> AsyncIterator[World]:
    """The platform of one environment, with its platform zone delegated."""
    settings = Settings(
        environment=environment,
        root_domain=root_domain,
        database_url=database_url,
        demo=False,
        route53_endpoint_url=route53_client.meta.endpoint_url,
        dns_nameservers=(dns_server.nameserver,),
        kubernetes_api_url=kubernetes_api.url,
        kubernetes_namespace=NAMESPACE,
        certificate_issuer="cert-manager",
        ingress_target=INGRESS_TARGET,
        provisioning_first_retry_seconds=0.05,
        provisioning_max_retry_seconds=0.2,
    )
    platform_zone = provisioning_policy(settings).platform_zone
    created = route53_client.create_hosted_zone(
        Name=platform_zone, CallerReference=uuid.uuid4().hex
    )
    platform_zone_id = created["HostedZone"]["Id"].rsplit("/", 1)[-1]
    container = make_container(settings)
    queue = RecordingQueue()
    sessions = await container.get(async_sessionmaker[AsyncSession])
    world = World(
        container=container,
        relay=SqlOutboxRelay(sessions, queue),
        queue=queue,
        route53=route53_client,
        zones=dns_zones,
        dns=dns_server,
        resolver=dns_resolver,
        kubernetes=kubernetes_api,
        platform_zone_id=platform_zone_id,
        platform_root=root_domain,
    )
    world.delegate(platform_zone, platform_zone_id)
    try:
        yield world
    finally:
        for domain in world.delegated:
            dns_server.undelegate(domain)
        await container.close()


@pytest.fixture
async def world(
    database_url: str,
    route53_client: Any,
    dns_zones: Route53DnsZones,
    dns_server: ZoneDnsServer,
    dns_resolver: DnspythonResolver,
    kubernetes_api: KubernetesApiServer,
) -> AsyncIterator[World]:
    async with open_world(
        Environment.ALPHA,
        f"p{uuid.uuid4().hex[:10]}.test",
        database_url,
        route53_client,
        dns_zones,
        dns_server,
        dns_resolver,
        kubernetes_api,
    ) as opened:
        yield opened


def customer_domain() -> str:
    return f"customer-{uuid.uuid4().hex[:10]}.test"


def marker_of(principal: Principal, domain_id: int) -> str:
    return f"smarter-verification={principal.account_number}-{domain_id}"


# -- the tests ----------------------------------------------------------------------------------


async def test_registering_creates_a_zone_shows_its_name_servers_and_writes_the_marker(
    world: World,
) -> None:
    principal = await world.account(FIRST)
    name = customer_domain()
    domain_id = await world.register(principal, name)
    assert (await world.view(principal, domain_id)).name_servers == []  # the worker's job

    assert [job.key for job in await world.queued()] == [f"domain:{domain_id}"]
    await world.run(VerifyCustomDomain(domain_id=domain_id))

    view = await world.view(principal, domain_id)
    assert view.aws_hosted_zone_id is not None
    zone = world.route53.get_hosted_zone(Id=view.aws_hosted_zone_id)
    assert zone["HostedZone"]["Name"].rstrip(".") == name
    expected = [ns.rstrip(".").lower() for ns in zone["DelegationSet"]["NameServers"]]
    assert view.name_servers == expected
    assert view.ns_records_to_set == [f"{name}. NS {ns}." for ns in expected]
    assert view.marker_name == f"_smarter.{name}"
    marker = marker_of(principal, domain_id)
    assert await world.records(view.aws_hosted_zone_id, f"_smarter.{name}", "TXT") == [(marker,)]

    # Once the registrar delegates the domain, public DNS answers from that zone.
    world.delegate(name, view.aws_hosted_zone_id)
    assert await world.resolver.resolve(f"_smarter.{name}", "TXT") == (marker,)
    assert set(await world.resolver.resolve(name, "NS")) == set(expected)


async def test_an_undelegated_domain_is_reported_and_retried_until_the_registrar_delegates_it(
    world: World,
) -> None:
    principal = await world.account(FIRST)
    name = customer_domain()
    domain_id = await world.register(principal, name)
    # The domain still points at its old DNS host, which knows nothing of the marker.
    parked = world.route53.create_hosted_zone(Name=name, CallerReference=uuid.uuid4().hex)
    world.dns.delegate(name, parked["HostedZone"]["Id"], name_servers=["ns1.parking.example"])
    world.delegated.append(name)

    again = await world.run_queued()
    assert again[f"domain:{domain_id}"] is not None  # retried, with backoff
    view = await world.view(principal, domain_id)
    assert not view.is_verified
    report = view.last_verification
    assert report is not None
    assert report.name_servers_found == ("ns1.parking.example",)
    assert report.marker_found == ()
    assert "ns1.parking.example" in report.message and view.marker_name in report.message
    assert await world.run(VerifyCustomDomain(domain_id=domain_id)) is not None  # still not

    assert view.aws_hosted_zone_id is not None
    world.delegate(name, view.aws_hosted_zone_id)  # the customer fixed their NS records
    assert await world.run(VerifyCustomDomain(domain_id=domain_id)) is None
    view = await world.view(principal, domain_id)
    assert view.is_verified
    assert view.last_verification is not None
    assert view.last_verification.marker_found == (marker_of(principal, domain_id),)
    assert set(view.last_verification.name_servers_found) == set(view.name_servers)


async def test_a_domain_nobody_serves_is_retried_and_the_failed_lookup_is_reported(
    world: World,
) -> None:
    principal = await world.account(FIRST)
    name = customer_domain()
    domain_id = await world.register(principal, name)
    again = await world.run_queued()  # the test DNS server refuses names it does not serve
    assert again[f"domain:{domain_id}"] is not None
    view = await world.view(principal, domain_id)
    assert view.aws_hosted_zone_id is not None and view.name_servers
    assert not view.is_verified
    report = view.last_verification
    assert report is not None
    assert (report.name_servers_found, report.marker_found) == ((), ())
    assert f"DNS lookup of {name} NS" in report.message  # what went wrong, for the customer
    assert "REFUSED" in report.message


async def test_the_same_name_servers_without_this_registrations_marker_do_not_verify(
    world: World,
) -> None:
    principal = await world.account(FIRST)
    name = customer_domain()
    domain_id = await world.register(principal, name)
    await world.run_queued()
    # Someone else's zone of the same name: moto gives it the very same name servers.
    stranger = world.route53.create_hosted_zone(Name=name, CallerReference=uuid.uuid4().hex)
    stranger_id = stranger["HostedZone"]["Id"].rsplit("/", 1)[-1]
    await world.zones.upsert(
        stranger_id,
        [_txt(f"_smarter.{name}", "smarter-verification=9999-9999-9999-1")],
    )
    world.delegate(name, stranger_id)
    view = await world.view(principal, domain_id)
    assert set(await world.resolver.resolve(name, "NS")) == set(view.name_servers)

    assert await world.run(VerifyCustomDomain(domain_id=domain_id)) is not None
    view = await world.view(principal, domain_id)
    assert not view.is_verified
    assert view.last_verification is not None
    assert view.last_verification.marker_found == ("smarter-verification=9999-9999-9999-1",)
    assert "marker" in view.last_verification.message
    assert "NS records" not in view.last_verification.message  # the name servers did match


async def test_of_two_accounts_on_one_domain_the_delegated_one_wins_and_the_other_is_released(
    world: World,
) -> None:
    first, second = await world.account(FIRST), await world.account(SECOND)
    name = customer_domain()
    first_id = await world.register(first, name)
    second_id = await world.register(second, name)  # pending registrations coexist
    await world.run_queued()
    first_zone = (await world.view(first, first_id)).aws_hosted_zone_id
    second_zone = (await world.view(second, second_id)).aws_hosted_zone_id
    assert first_zone and second_zone and first_zone != second_zone
    world.delegate(name, second_zone)  # the registrar points the domain at the second's zone

    assert await world.run(VerifyCustomDomain(domain_id=first_id)) is not None
    assert await world.run(VerifyCustomDomain(domain_id=second_id)) is None
    assert (await world.view(second, second_id)).is_verified

    async with world.container() as request:
        listed = await (await request.get(custom_domains.ListCustomDomains))(first)
    assert listed == []  # released
    assert [job.key for job in await world.queued()] == [f"zone:{first_zone}"]
    await world.run(DeleteDomainZone(zone_id=first_zone))
    assert not world.zone_exists(first_zone)
    assert world.zone_exists(second_zone)
    # A late verification run of the released registration changes nothing.
    assert await world.run(VerifyCustomDomain(domain_id=first_id)) is None


async def test_a_client_on_a_verified_domain_serves_its_custom_host_until_undeployed(
    world: World,
) -> None:
    principal = await world.account(FIRST)
    name = customer_domain()
    domain_id = await world.register(principal, name)
    await world.run_queued()
    zone_id = (await world.view(principal, domain_id)).aws_hosted_zone_id
    assert zone_id is not None
    # Attached while pending: the client is served on its default host only.
    client_id = await world.client(principal, "helpdesk")
    await world.attach(principal, client_id, domain_id)
    await world.deploy(principal, client_id)
    await world.finish()
    client = await world.read_client(principal, client_id)
    assert client.ready
    assert world.ingress_hosts() == {client.default_host}
    assert await world.records(zone_id, f"helpdesk.{name}", "A") == []

    world.delegate(name, zone_id)
    await world.ask_to_verify(principal, domain_id)  # the console's "verify now"
    assert await world.run_queued() == {f"domain:{domain_id}": None}
    assert (await world.view(principal, domain_id)).is_verified
    # Verification queued the clients on the domain, which now get their custom host.
    queued = await world.queued()
    assert queued == [ReconcileClient(client_id=client_id)]
    await world.finish(*queued)

    client = await world.read_client(principal, client_id)
    assert client.ready, (client.dns_verification_status, client.tls_certificate_issuance_status)
    default_host, custom_host = client.default_host, client.custom_host
    assert custom_host == f"helpdesk.{name}"
    assert await world.records(world.platform_zone_id, default_host, "A") == [(INGRESS_TARGET,)]
    assert await world.records(zone_id, custom_host, "A") == [(INGRESS_TARGET,)]
    assert await world.resolver.resolve(custom_host, "A") == (INGRESS_TARGET,)
    assert world.ingress_hosts() == {default_host, custom_host}
    ingress = world.kubernetes.get("Ingress", ingress_name(custom_host), NAMESPACE)
    assert ingress is not None
    assert ingress["spec"]["tls"][0]["secretName"] == host_certificate_name(custom_host)
    certificate = world.kubernetes.get("Certificate", host_certificate_name(custom_host), NAMESPACE)
    assert certificate is not None
    assert certificate["spec"]["dnsNames"] == [custom_host]
    assert len(world.certificate_names()) == 2  # the account's wildcard and the custom host's

    # The chat endpoint's host lookup finds the client on its custom host.
    find = await world.container.get(FindClientForHost)
    host = (await world.container.get(HostRouter)).resolve(custom_host)
    found, mode = serving_client(await find(host), host)
    assert (found.id, mode) == (client_id, ClientMode.CUSTOM)

    await world.undeploy(principal, client_id)
    with pytest.raises(ClientNotReady):  # at once, before the worker tore anything down
        serving_client(await find(host), host)
    await world.finish()
    client = await world.read_client(principal, client_id)
    assert client.dns_verification_status == "Not Verified"
    assert await world.records(world.platform_zone_id, default_host, "A") == []
    assert await world.records(zone_id, custom_host, "A") == []
    assert world.ingress_hosts() == set()
    assert world.certificate_names() == set()


async def test_deleting_a_domain_removes_its_zone(world: World) -> None:
    principal = await world.account(FIRST)
    name = customer_domain()
    domain_id = await world.register(principal, name)
    await world.run_queued()
    zone_id = (await world.view(principal, domain_id)).aws_hosted_zone_id
    assert zone_id is not None and world.zone_exists(zone_id)
    world.delegate(name, zone_id)

    await world.delete_domain(principal, domain_id)
    await world.finish()
    assert not world.zone_exists(zone_id)
    async with world.container() as request:
        assert await (await request.get(custom_domains.ListCustomDomains))(principal) == []
    # What was delegated to it no longer answers (the test DNS server: SERVFAIL).
    with pytest.raises(Exception, match="DNS lookup"):
        await world.resolver.resolve(f"_smarter.{name}", "TXT")


async def test_a_domain_in_use_is_detached_first_and_then_its_zone_goes_with_it(
    world: World,
) -> None:
    principal = await world.account(FIRST)
    name = customer_domain()
    domain_id = await world.register(principal, name)
    await world.run_queued()
    zone_id = (await world.view(principal, domain_id)).aws_hosted_zone_id
    assert zone_id is not None
    world.delegate(name, zone_id)
    await world.run(VerifyCustomDomain(domain_id=domain_id))
    client_id = await world.client(principal, "sales")
    await world.attach(principal, client_id, domain_id)
    await world.deploy(principal, client_id)
    await world.finish()
    client = await world.read_client(principal, client_id)
    assert client.ready and client.custom_host
    custom_host, default_host = client.custom_host, client.default_host
    assert await world.records(zone_id, custom_host, "A") == [(INGRESS_TARGET,)]

    with pytest.raises(Conflict):
        await world.delete_domain(principal, domain_id)
    await world.attach(principal, client_id, None)
    await world.finish()
    client = await world.read_client(principal, client_id)
    assert client.ready  # still served on its default host
    assert await world.records(zone_id, custom_host, "A") == []
    assert world.ingress_hosts() == {default_host}
    assert host_certificate_name(custom_host) not in world.certificate_names()

    await world.delete_domain(principal, domain_id)
    await world.finish()
    assert not world.zone_exists(zone_id)


async def test_two_environments_sharing_route53_never_share_a_customers_zone(
    world: World,
    tmp_path: Path,
    route53_client: Any,
    dns_zones: Route53DnsZones,
    dns_server: ZoneDnsServer,
    dns_resolver: DnspythonResolver,
    kubernetes_api: KubernetesApiServer,
) -> None:
    """alpha and beta keep their own databases (domain ids start at 1 in each) but may share
    one AWS account: a customer trying the same domain in both gets two zones, so neither
    environment's marker or deletion touches the other's."""
    name = customer_domain()
    alpha = await world.account(FIRST)
    alpha_id = await world.register(alpha, name)
    await world.run_queued()
    with fresh_database("sqlite", tmp_path) as beta_database:
        async with open_world(
            Environment.BETA,
            world.platform_root,
            beta_database,
            route53_client,
            dns_zones,
            dns_server,
            dns_resolver,
            kubernetes_api,
        ) as beta_world:
            beta = await beta_world.account(SECOND)
            beta_id = await beta_world.register(beta, name)
            assert beta_id == alpha_id  # the same id, in another database
            await beta_world.run_queued()
            beta_zone = (await beta_world.view(beta, beta_id)).aws_hosted_zone_id
    alpha_zone = (await world.view(alpha, alpha_id)).aws_hosted_zone_id
    assert alpha_zone and beta_zone
    assert alpha_zone != beta_zone
    assert await world.records(alpha_zone, f"_smarter.{name}", "TXT") == [
        (marker_of(alpha, alpha_id),)
    ]
    await world.delete_domain(alpha, alpha_id)
    await world.finish()
    assert world.zone_exists(beta_zone)


def _txt(name: str, value: str) -> DnsRecord:
    return DnsRecord(name=name, type="TXT", values=(value,))
