"""AcmeCertificates against pebble, validating DNS-01 through Route 53 (moto) and the test DNS
server: real orders, real challenge records, real certificates checked with cryptography."""

from __future__ import annotations

import asyncio
import base64
import datetime
import socket
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from kubernetes import client as k8s

from smarter.adapters.acme_certificates import AcmeCertificates
from smarter.adapters.certificate_stores import (
    FileCertificateStore,
    KubernetesSecretCertificateStore,
)
from smarter.adapters.dnspython_resolver import DnspythonResolver
from smarter.adapters.route53_dns_zones import Route53DnsZones
from smarter.application.infrastructure import CertificateState, DnsRecord, InfrastructureError
from tests.support.dns_server import ZoneDnsServer
from tests.support.kubernetes_api import KubernetesApiServer
from tests.support.pebble import Pebble, start_pebble

ACCOUNT_LABEL = "3141-5926-5359"


@pytest.fixture(scope="module")
def pebble(dns_server: ZoneDnsServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pebble]:
    with start_pebble(dns_server.port, tmp_path_factory.mktemp("pebble")) as running:
        yield running


def _new_zone(route53_client: Any, name: str) -> str:
    zone = route53_client.create_hosted_zone(Name=name, CallerReference=str(uuid.uuid4()))
    return str(zone["HostedZone"]["Id"]).rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def zone(route53_client: Any, dns_server: ZoneDnsServer) -> Iterator[tuple[str, str]]:
    """(zone name, zone id) of a fresh `….smarter.test` zone the DNS server delegates."""
    name = f"z{uuid.uuid4().hex[:10]}.smarter.test"
    zone_id = _new_zone(route53_client, name)
    dns_server.delegate(name, zone_id)
    yield name, zone_id
    dns_server.undelegate(name)


class RecordingZones:
    """The real DnsZones, remembering the TXT records each order wrote."""

    def __init__(self, zones: Route53DnsZones) -> None:
        self._zones = zones
        self.upserted: list[DnsRecord] = []

    async def upsert(self, zone_id: str, records: Sequence[DnsRecord]) -> str:
        self.upserted.extend(records)
        return await self._zones.upsert(zone_id, records)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._zones, attribute)


@pytest.fixture
def recording_zones(dns_zones: Route53DnsZones) -> RecordingZones:
    return RecordingZones(dns_zones)


def zone_for(*zones: tuple[str, str]) -> Any:
    """Challenges written at their own names, in the zone that holds them."""

    async def place(record_name: str) -> tuple[str, str]:
        zone_id = next(zone_id for name, zone_id in zones if record_name.endswith("." + name))
        return zone_id, record_name

    return place


@pytest.fixture
def certificates(
    pebble: Pebble, recording_zones: RecordingZones, zone: tuple[str, str], tmp_path: Path
) -> AcmeCertificates:
    return make_certificates(pebble, recording_zones, tmp_path, zone)


def make_certificates(
    pebble: Pebble, zones: Any, folder: Path, *served: tuple[str, str]
) -> AcmeCertificates:
    return AcmeCertificates(
        pebble.directory_url,
        zones,
        zone_for(*served),
        FileCertificateStore(folder / "certificates"),
        email="ops@smarter.test",
        ca_bundle=pebble.ca_bundle,
        order_timeout=15,
        poll_interval=0.05,
    )


def leaf_and_chain(folder: Path, name: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates((folder / "certificates" / f"{name}.crt").read_bytes())


def san(certificate: x509.Certificate) -> set[str]:
    extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    return set(extension.value.get_values_for_type(x509.DNSName))


async def challenge_records(dns_zones: Route53DnsZones, zone_id: str) -> list[DnsRecord]:
    return [r for r in await dns_zones.records(zone_id) if r.name.startswith("_acme-challenge")]


async def test_a_client_host_gets_a_certificate_that_chains_to_pebbles_root(
    certificates: AcmeCertificates,
    pebble: Pebble,
    zone: tuple[str, str],
    recording_zones: RecordingZones,
    dns_zones: Route53DnsZones,
    dns_resolver: DnspythonResolver,
    tmp_path: Path,
) -> None:
    host = f"bot.{ACCOUNT_LABEL}.api.{zone[0]}"
    assert (await certificates.status("bot")).state is CertificateState.ABSENT

    await certificates.request("bot", [host])

    status = await certificates.status("bot")
    assert status.state is CertificateState.READY
    leaf, intermediate = leaf_and_chain(tmp_path, "bot")
    root = x509.load_pem_x509_certificate(pebble.root_pem().encode())
    assert san(leaf) == {host}
    leaf.verify_directly_issued_by(intermediate)
    intermediate.verify_directly_issued_by(root)
    assert status.not_after == leaf.not_valid_after_utc
    assert status.not_before == leaf.not_valid_before_utc
    assert leaf.not_valid_after_utc > datetime.datetime.now(datetime.UTC)
    # The challenge went through Route 53 and real DNS, and is gone now.
    assert [r.name for r in recording_zones.upserted] == [f"_acme-challenge.{host}"]
    assert await challenge_records(dns_zones, zone[1]) == []
    assert await dns_resolver.resolve(f"_acme-challenge.{host}", "TXT") == ()


async def test_a_wildcard_and_its_base_share_one_challenge_name_with_two_values(
    certificates: AcmeCertificates,
    zone: tuple[str, str],
    recording_zones: RecordingZones,
    dns_zones: Route53DnsZones,
    tmp_path: Path,
) -> None:
    base = f"{ACCOUNT_LABEL}.api.{zone[0]}"

    await certificates.request("wildcard", [f"*.{base}", base])

    assert (await certificates.status("wildcard")).state is CertificateState.READY
    assert san(leaf_and_chain(tmp_path, "wildcard")[0]) == {f"*.{base}", base}
    [record] = recording_zones.upserted
    assert record.name == f"_acme-challenge.{base}"
    assert len(set(record.values)) == 2
    assert await challenge_records(dns_zones, zone[1]) == []


async def test_asking_again_orders_nothing_and_renew_orders_anew(
    certificates: AcmeCertificates,
    zone: tuple[str, str],
    recording_zones: RecordingZones,
    tmp_path: Path,
) -> None:
    hosts = [f"*.{ACCOUNT_LABEL}.api.{zone[0]}"]
    await certificates.request("shared", hosts)
    first = leaf_and_chain(tmp_path, "shared")[0]

    await certificates.request("shared", hosts)
    assert leaf_and_chain(tmp_path, "shared")[0] == first
    assert len(recording_zones.upserted) == 1  # no second order, so no second challenge

    await certificates.request("shared", hosts, renew=True)
    renewed = leaf_and_chain(tmp_path, "shared")[0]
    assert renewed.serial_number != first.serial_number
    assert san(renewed) == set(hosts)
    assert len(recording_zones.upserted) == 2
    assert (await certificates.status("shared")).state is CertificateState.READY


async def test_other_hosts_under_the_same_name_are_ordered(
    certificates: AcmeCertificates, zone: tuple[str, str], tmp_path: Path
) -> None:
    await certificates.request("moving", [f"a.{ACCOUNT_LABEL}.api.{zone[0]}"])
    await certificates.request("moving", [f"b.{ACCOUNT_LABEL}.api.{zone[0]}"])
    assert san(leaf_and_chain(tmp_path, "moving")[0]) == {f"b.{ACCOUNT_LABEL}.api.{zone[0]}"}


async def test_two_workers_asking_at_once_make_one_order(
    pebble: Pebble,
    zone: tuple[str, str],
    recording_zones: RecordingZones,
    tmp_path: Path,
) -> None:
    # Two instances on one store play two workers; each is asked twice at the same moment.
    one = make_certificates(pebble, recording_zones, tmp_path, zone)
    two = make_certificates(pebble, recording_zones, tmp_path, zone)
    hosts = [f"race.{ACCOUNT_LABEL}.api.{zone[0]}"]

    await asyncio.gather(*(worker.request("race", hosts) for worker in (one, two, one, two)))

    assert len(recording_zones.upserted) == 1
    assert (await two.status("race")).state is CertificateState.READY


async def test_a_pending_order_of_another_worker_shows_as_pending_and_is_not_repeated(
    certificates: AcmeCertificates,
    zone: tuple[str, str],
    recording_zones: RecordingZones,
    tmp_path: Path,
) -> None:
    store = FileCertificateStore(tmp_path / "certificates")
    now = datetime.datetime.now(datetime.UTC).isoformat()
    await store.create_marker("busy", "pending", f'{{"hosts": [], "at": "{now}"}}')

    await certificates.request("busy", [f"busy.{ACCOUNT_LABEL}.api.{zone[0]}"])

    assert recording_zones.upserted == []
    assert (await certificates.status("busy")).state is CertificateState.PENDING


async def test_a_challenge_that_does_not_resolve_fails_with_the_reason_and_leaves_no_record(
    pebble: Pebble,
    route53_client: Any,
    dns_zones: Route53DnsZones,
    tmp_path: Path,
) -> None:
    # A zone nobody delegated to: pebble's DNS question is refused.
    name = f"z{uuid.uuid4().hex[:10]}.smarter.test"
    undelegated = (name, _new_zone(route53_client, name))
    certificates = make_certificates(pebble, dns_zones, tmp_path, undelegated)

    await certificates.request("lost", [f"bot.{name}"])

    status = await certificates.status("lost")
    assert status.state is CertificateState.FAILED
    assert f"bot.{name}" in status.reason
    assert "dns" in status.reason.lower()
    assert await challenge_records(dns_zones, undelegated[1]) == []
    assert not (tmp_path / "certificates" / "lost.crt").exists()


async def test_delete_removes_the_certificate(
    certificates: AcmeCertificates, zone: tuple[str, str], tmp_path: Path
) -> None:
    await certificates.request("gone", [f"gone.{ACCOUNT_LABEL}.api.{zone[0]}"])
    assert (await certificates.status("gone")).state is CertificateState.READY

    await certificates.delete("gone")
    await certificates.delete("gone")

    assert (await certificates.status("gone")).state is CertificateState.ABSENT
    assert not (tmp_path / "certificates" / "gone.crt").exists()
    assert not (tmp_path / "certificates" / "gone.key").exists()


async def test_a_restarted_worker_reuses_the_stored_account_key(
    pebble: Pebble, recording_zones: RecordingZones, zone: tuple[str, str], tmp_path: Path
) -> None:
    first = make_certificates(pebble, recording_zones, tmp_path, zone)
    await first.request("before", [f"before.{ACCOUNT_LABEL}.api.{zone[0]}"])
    account_key = (tmp_path / "certificates" / "_acme-account.key").read_text()

    restarted = make_certificates(pebble, recording_zones, tmp_path, zone)
    await restarted.request("after", [f"after.{ACCOUNT_LABEL}.api.{zone[0]}"])

    assert (await restarted.status("after")).state is CertificateState.READY
    assert (tmp_path / "certificates" / "_acme-account.key").read_text() == account_key


async def test_an_unreachable_ca_raises_for_a_retry_and_records_no_failure(
    zone: tuple[str, str], dns_zones: Route53DnsZones, tmp_path: Path
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    certificates = AcmeCertificates(
        f"https://127.0.0.1:{port}/dir",
        dns_zones,
        zone_for(zone),
        FileCertificateStore(tmp_path / "certificates"),
    )

    with pytest.raises(InfrastructureError, match="unreachable"):
        await certificates.request("later", [f"later.{ACCOUNT_LABEL}.api.{zone[0]}"])

    assert (await certificates.status("later")).state is CertificateState.ABSENT


async def test_a_certificate_can_land_in_a_kubernetes_tls_secret(
    pebble: Pebble, dns_zones: Route53DnsZones, zone: tuple[str, str]
) -> None:
    host = f"k8s.{ACCOUNT_LABEL}.api.{zone[0]}"
    with KubernetesApiServer() as kubernetes_api:
        api_client = k8s.ApiClient(k8s.Configuration(host=kubernetes_api.url))
        certificates = AcmeCertificates(
            pebble.directory_url,
            dns_zones,
            zone_for(zone),
            KubernetesSecretCertificateStore(api_client, "smarter"),
            ca_bundle=pebble.ca_bundle,
            poll_interval=0.05,
        )

        await certificates.request("k8s-bot", [host])

        assert (await certificates.status("k8s-bot")).state is CertificateState.READY
        secret = kubernetes_api.get("Secret", "k8s-bot", "smarter")
        api_client.close()  # type: ignore[no-untyped-call]
    assert secret is not None and secret["type"] == "kubernetes.io/tls"
    leaf = x509.load_pem_x509_certificates(base64.b64decode(secret["data"]["tls.crt"]))[0]
    assert san(leaf) == {host}
    key = serialization.load_pem_private_key(base64.b64decode(secret["data"]["tls.key"]), None)
    assert key.public_key() == leaf.public_key()


async def test_a_pending_marker_left_by_a_dead_worker_is_taken_over(
    certificates: AcmeCertificates,
    zone: tuple[str, str],
    recording_zones: RecordingZones,
    tmp_path: Path,
) -> None:
    store = FileCertificateStore(tmp_path / "certificates")
    long_ago = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)).isoformat()
    await store.create_marker("orphan", "pending", f'{{"hosts": [], "at": "{long_ago}"}}')
    assert (await certificates.status("orphan")).state is CertificateState.ABSENT

    await certificates.request("orphan", [f"orphan.{ACCOUNT_LABEL}.api.{zone[0]}"])

    assert len(recording_zones.upserted) == 1
    assert (await certificates.status("orphan")).state is CertificateState.READY
    assert await store.get_marker("orphan", "pending") is None
