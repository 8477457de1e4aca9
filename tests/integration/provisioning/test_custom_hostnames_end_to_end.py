"""Custom hostnames end to end with a real `smarter worker`: certificates from pebble by DNS-01
through the customer's `_acme-challenge` CNAME into the platform's zone, the DNS test server
serving a "customer" zone the platform does not hold (the test writes the customer's records
in it), Route 53 (moto), the Kubernetes stand-in and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from smarter.application import custom_hostnames
from smarter.application.chat.hosts import FindClientForHost, serving_client
from smarter.application.custom_hostnames import HostnameSetup
from smarter.application.ports import UnitOfWork
from smarter.domain.custom_hostname import CustomHostname
from smarter.domain.host_router import HostRouter
from smarter.domain.llm_client import ClientMode
from smarter.domain.provisioning import host_certificate_name, ingress_name
from tests.integration.conftest import fresh_database
from tests.integration.provisioning.worker_platform import (
    INGRESS_TARGET,
    Platform,
    platform_under_test,
    until,
)
from tests.support.dns_server import ZoneDnsServer
from tests.support.kubernetes_api import KubernetesApiServer
from tests.support.pebble import Pebble, start_pebble
from tests.support.route53_server import Route53Process


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database("postgresql", tmp_path_factory.mktemp("hostnames")) as url:
        yield url


@pytest.fixture(scope="module")
def pebble(dns_server: ZoneDnsServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pebble]:
    with start_pebble(dns_server.port, tmp_path_factory.mktemp("pebble")) as running:
        yield running


@pytest.fixture
def kubernetes_api() -> Iterator[KubernetesApiServer]:
    with KubernetesApiServer() as server:
        yield server


@pytest.fixture
def customer_zone(route53_client: Any, dns_server: ZoneDnsServer) -> Iterator[tuple[str, str]]:
    """(name, zone id) of a customer's own zone: the platform holds no record in it."""
    name = f"c{uuid.uuid4().hex[:10]}.test"
    zone = route53_client.create_hosted_zone(Name=name, CallerReference=uuid.uuid4().hex)
    zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
    dns_server.delegate(name, zone_id)
    yield name, zone_id
    dns_server.undelegate(name)


@pytest.fixture
async def platform(
    postgres_url: str,
    route53_server: Route53Process,
    route53_client: Any,
    dns_server: ZoneDnsServer,
    kubernetes_api: KubernetesApiServer,
    pebble: Pebble,
    tmp_path: Path,
) -> AsyncIterator[Platform]:
    acme = {
        "SMARTER_CERTIFICATE_ISSUER": "acme",
        "SMARTER_ACME_DIRECTORY_URL": pebble.directory_url,
        "SMARTER_ACME_CA_BUNDLE": pebble.ca_bundle,
        "SMARTER_CERTIFICATE_STORE": str(tmp_path / "certificates"),
        "SMARTER_WORKER_JOB_TIMEOUT_SECONDS": "60",
    }
    async with platform_under_test(
        postgres_url, route53_server, route53_client, dns_server, kubernetes_api, tmp_path, **acme
    ) as running:
        yield running


async def register(p: Platform, principal: Any, name: str, client_id: int) -> CustomHostname:
    async with p.container() as request:
        register = await request.get(custom_hostnames.RegisterCustomHostname)
        return await register(principal, name, client_id)


async def stored(p: Platform, hostname_id: int) -> CustomHostname:
    async with p.container() as request:
        uow: UnitOfWork = await request.get(UnitOfWork)
        found = await uow.hostnames.find(hostname_id)
    assert found is not None
    return found


async def records_to_set(p: Platform, hostname: CustomHostname) -> Any:
    async with p.container() as request:
        return (await request.get(HostnameSetup)).records_of(hostname)


def set_at_customer(route53: Any, zone_id: str, records: Any) -> None:
    """What the customer does at their DNS provider."""
    changes = [
        {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": record.name,
                "Type": record.type,
                "TTL": 60,
                "ResourceRecords": [
                    {"Value": f'"{v}"' if record.type == "TXT" else v} for v in record.values
                ],
            },
        }
        for record in records
    ]
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})


def issued_for(folder: Path, name: str) -> set[str]:
    leaf = x509.load_pem_x509_certificates((folder / "certificates" / f"{name}.crt").read_bytes())[
        0
    ]
    extension = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    return set(extension.value.get_values_for_type(x509.DNSName))


async def test_a_cname_hostname_and_an_apex_name_get_pebble_certificates_via_the_challenge_cname(
    platform: Platform, customer_zone: tuple[str, str], route53_client: Any, tmp_path: Path
) -> None:
    p = platform
    zone_name, zone_id = customer_zone
    principal = await p.account("3000-4000-0001")
    client_id = await p.create(principal, "support")
    await p.deploy(principal, client_id)
    p.start_worker()

    async def ready() -> bool:
        return (await p.client(principal, client_id)).ready

    await until(ready, 120.0, "the default host to be ready")

    chat = await register(p, principal, f"chat.{zone_name}", client_id)
    apex = await register(p, principal, zone_name, client_id)
    pending = await stored(p, chat.id or 0)
    assert not pending.is_verified  # nothing set yet: the check says what is missing
    shown = await records_to_set(p, chat)
    assert [(r.name, r.type) for r in shown] == [
        (f"chat.{zone_name}", "CNAME"),
        (f"_smarter.chat.{zone_name}", "TXT"),
        (f"_acme-challenge.chat.{zone_name}", "CNAME"),
    ]
    apex_records = await records_to_set(p, apex)
    assert (apex_records[0].type, apex_records[0].values) == ("A", (INGRESS_TARGET,))

    set_at_customer(route53_client, zone_id, [*shown, *apex_records])

    async def served_on_both() -> bool:
        await asyncio.sleep(0.2)
        ingresses = {i["spec"]["rules"][0]["host"] for i in p.ingresses()}
        return {f"chat.{zone_name}", zone_name} <= ingresses

    await until(served_on_both, 120.0, "both hostnames to be served")

    assert (await stored(p, chat.id or 0)).is_verified
    assert issued_for(tmp_path, host_certificate_name(f"chat.{zone_name}")) == {f"chat.{zone_name}"}
    assert issued_for(tmp_path, host_certificate_name(zone_name)) == {zone_name}
    ingress = p.kubernetes.get("Ingress", ingress_name(f"chat.{zone_name}"), "smarter")
    assert ingress is not None
    assert ingress["spec"]["tls"][0]["secretName"] == host_certificate_name(f"chat.{zone_name}")
    # The name the customer's CNAME points at leads to the ingress.
    target = p.records(f"custom.{p.zone_name}")
    assert [v["Value"] for v in target[0]["ResourceRecords"]] == [INGRESS_TARGET]

    async with p.container() as request:
        find = await request.get(FindClientForHost)
        router = await request.get(HostRouter)
        host = router.resolve(f"chat.{zone_name}")
        client, mode = serving_client(await find(host), host)
    assert client.id == client_id and mode is ClientMode.CUSTOM
