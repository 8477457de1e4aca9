"""The `local` environment's in-memory DNS, cluster and certificates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smarter.adapters.local_infrastructure import (
    InstantCertificates,
    MemoryCluster,
    MemoryDnsResolver,
    MemoryDnsZones,
)
from smarter.application.infrastructure import CertificateState, DnsRecord, Ingress
from tests.fakes import FakeClock


async def test_a_zone_is_created_once_per_caller_reference() -> None:
    zones = MemoryDnsZones()
    first = await zones.ensure_zone("Customer.com.", "registration-1")
    again = await zones.ensure_zone("customer.com", "registration-1")
    other = await zones.ensure_zone("customer.com", "registration-2")
    assert first == again
    assert first.name == "customer.com"
    assert other.id != first.id
    assert await zones.get_zone(first.id) == first
    assert await zones.find_zone("customer.com") == first


async def test_records_are_upserted_deleted_and_resolved_at_once() -> None:
    zones = MemoryDnsZones()
    resolver = MemoryDnsResolver(zones)
    zone = await zones.ensure_zone("api.local.example.com", "platform")
    record = DnsRecord(name="bot.acme.api.local.example.com", type="CNAME", values=("Ingress.",))
    change = await zones.upsert(zone.id, [record])
    assert await zones.is_in_sync(change)
    assert await resolver.resolve("bot.acme.api.local.example.com.", "CNAME") == ("ingress",)
    assert await zones.records(zone.id) == [record]
    assert await zones.delete(zone.id, [record]) is not None
    assert await zones.delete(zone.id, [record]) is None  # nothing left to delete
    assert await resolver.resolve("bot.acme.api.local.example.com", "CNAME") == ()


async def test_the_resolver_answers_from_the_closest_zone_and_gives_its_name_servers() -> None:
    zones = MemoryDnsZones()
    resolver = MemoryDnsResolver(zones)
    parent = await zones.ensure_zone("example.com", "parent")
    child = await zones.ensure_zone("bots.example.com", "child")
    await zones.upsert(
        parent.id, [DnsRecord(name="x.bots.example.com", type="A", values=("1.1.1.1",))]
    )
    await zones.upsert(
        child.id, [DnsRecord(name="_smarter.bots.example.com", type="TXT", values=("Id-7",))]
    )
    assert await resolver.resolve("_smarter.bots.example.com", "TXT") == ("Id-7",)
    assert await resolver.resolve("x.bots.example.com", "A") == ()  # hidden by the child zone
    assert await resolver.resolve("bots.example.com", "NS") == child.name_servers
    await zones.delete_zone(child.id)
    assert await resolver.resolve("x.bots.example.com", "A") == ("1.1.1.1",)


async def test_the_cluster_keeps_one_ingress_per_name() -> None:
    cluster = MemoryCluster()
    ingress = Ingress(name="bot", host="bot.example.com", tls_secret="tls-bot", labels={"a": "1"})
    await cluster.apply_ingress(ingress)
    await cluster.apply_ingress(ingress)
    assert await cluster.get_ingress("bot") == ingress
    assert len(cluster.ingresses) == 1
    await cluster.delete_ingress("bot")
    await cluster.delete_ingress("bot")
    assert await cluster.get_ingress("bot") is None


async def test_certificates_are_ready_at_once_with_a_lifetime_and_renew_on_request() -> None:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    certificates = InstantCertificates(clock)
    assert (await certificates.status("wild")).state is CertificateState.ABSENT
    await certificates.request("wild", ["*.acme.example.com"])
    status = await certificates.status("wild")
    assert status.state is CertificateState.READY
    assert status.not_before == datetime(2026, 1, 1, tzinfo=UTC)
    assert status.not_after == status.not_before + timedelta(days=90)
    clock.advance(timedelta(days=70).total_seconds())
    await certificates.request("wild", ["*.acme.example.com"])
    assert (await certificates.status("wild")).not_before == status.not_before  # no re-order
    await certificates.request("wild", ["*.acme.example.com"], renew=True)
    assert (await certificates.status("wild")).not_before == clock.now()
    await certificates.delete("wild")
    assert (await certificates.status("wild")).state is CertificateState.ABSENT
