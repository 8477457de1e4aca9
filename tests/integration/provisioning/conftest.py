"""Route 53 and DNS for the provisioning tests, over the real protocols.

- `route53_server` (session): moto's Route 53 on loopback (`Route53Process`): the platform's
  port records every request where it arrives; tests refuse requests through it.
- `moto_endpoint` (session): the URL of that recorded port (the platform's endpoint).
- `route53_client` (session): a boto3 Route 53 client on its unrecorded port (us-east-1, dummy
  credentials), for what the tests themselves read and write.
- `dns_zones` (function): `Route53DnsZones` on that client.
- `dns_server` (session): a `ZoneDnsServer` on 127.0.0.1 answering from moto's zones; a test
  calls `dns_server.delegate(domain, zone_id)` to play the registrar, and should
  `undelegate` what it delegated (or use names unique to the test).
- `dns_resolver` (function): `DnspythonResolver` asking only that server.
- `unique_domain` (function): a fresh domain name, so tests sharing moto never collide.
- `delegated_zone` (function): a fresh hosted zone for `unique_domain`, delegated to it in
  `dns_server` for the test's duration (undelegated after).

A process outside the tests (a worker) reaches the same services through `moto_endpoint` and
`dns_server.nameserver` ("127.0.0.1:<port>", the form of `SMARTER_DNS_NAMESERVERS`).

moto's state lives for the whole session: use unique zone names (`unique_domain`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from smarter.adapters.dnspython_resolver import DnspythonResolver
from smarter.adapters.route53_dns_zones import Route53DnsZones
from smarter.adapters.route53_dns_zones import route53_client as make_client
from smarter.application.infrastructure import HostedZone
from tests.support.dns_server import ZoneDnsServer
from tests.support.moto_server import TEST_CREDENTIALS
from tests.support.route53_server import Route53Process

AWS_REGION = "us-east-1"


@pytest.fixture(scope="session", autouse=True)
def _no_real_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Dummy credentials and no ~/.aws for anything in these tests that builds its own client."""
    empty = tmp_path_factory.mktemp("aws") / "none"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", AWS_REGION)
        patch.setenv("AWS_CONFIG_FILE", str(empty))
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
        patch.delenv("AWS_PROFILE", raising=False)
        patch.delenv("AWS_SESSION_TOKEN", raising=False)
        yield


@pytest.fixture(scope="session")
def route53_server() -> Iterator[Route53Process]:
    # A process of its own: the arrival times it records are not held back by the test's
    # threads (the DNS server, the Kubernetes stand-in) competing for this interpreter.
    with Route53Process() as server:
        yield server


@pytest.fixture(scope="session")
def moto_endpoint(route53_server: Route53Process) -> str:
    return route53_server.url


@pytest.fixture(scope="session")
def route53_client(route53_server: Route53Process, _no_real_aws: None) -> Any:
    return make_client(AWS_REGION, route53_server.direct_url, **TEST_CREDENTIALS)


@pytest.fixture
def dns_zones(route53_client: Any) -> Route53DnsZones:
    return Route53DnsZones(route53_client)


@pytest.fixture(scope="session")
def dns_server(route53_client: Any) -> Iterator[ZoneDnsServer]:
    server = ZoneDnsServer(route53_client).start()
    yield server
    server.stop()


@pytest.fixture
def dns_resolver(dns_server: ZoneDnsServer) -> DnspythonResolver:
    return DnspythonResolver([f"127.0.0.1:{dns_server.port}"], timeout=2.0)


@pytest.fixture
def unique_domain() -> str:
    return f"t{uuid.uuid4().hex[:12]}.example.test"


@pytest.fixture
async def delegated_zone(
    dns_zones: Route53DnsZones, dns_server: ZoneDnsServer, unique_domain: str
) -> AsyncIterator[HostedZone]:
    zone = await dns_zones.ensure_zone(unique_domain, "zone-" + unique_domain)
    dns_server.delegate(unique_domain, zone.id)
    yield zone
    dns_server.undelegate(unique_domain)


from tests.support.kubernetes_fixtures import kubernetes_api, kubernetes_client  # noqa: E402, F401
