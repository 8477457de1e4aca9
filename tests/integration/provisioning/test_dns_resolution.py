"""What Route53DnsZones writes, read back through real DNS: DnspythonResolver asking the
loopback ZoneDnsServer, which answers from moto's zones at query time."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import dns.asyncquery
import dns.message
import dns.rcode
import pytest

from smarter.adapters.dnspython_resolver import DnspythonResolver, parse_nameserver
from smarter.adapters.route53_dns_zones import Route53DnsZones
from smarter.application.infrastructure import DnsRecord, HostedZone, InfrastructureError
from tests.support.dns_server import ZoneDnsServer


@pytest.fixture
def zone(delegated_zone: HostedZone) -> HostedZone:
    return delegated_zone


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback UDP port that takes questions and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def test_a_record_resolves_once_upserted_and_stops_resolving_once_deleted(
    dns_zones: Route53DnsZones, dns_resolver: DnspythonResolver, zone: HostedZone
) -> None:
    host = f"bot.{zone.name}"
    assert await dns_resolver.resolve(host, "A") == ()

    await dns_zones.upsert(zone.id, [DnsRecord(name=host, type="A", values=("10.9.8.7",))])
    assert await dns_resolver.resolve(host, "A") == ("10.9.8.7",)

    await dns_zones.delete(zone.id, [DnsRecord(name=host, type="A", values=())])
    assert await dns_resolver.resolve(host, "A") == ()


async def test_ns_of_a_delegated_domain_are_the_zones_name_servers(
    dns_resolver: DnspythonResolver, zone: HostedZone
) -> None:
    assert sorted(await dns_resolver.resolve(zone.name.upper() + ".", "NS")) == sorted(
        zone.name_servers
    )


async def test_a_registrar_may_delegate_to_other_name_servers(
    dns_server: ZoneDnsServer, dns_resolver: DnspythonResolver, zone: HostedZone
) -> None:
    dns_server.delegate(zone.name, zone.id, name_servers=["ns1.elsewhere.example."])

    assert await dns_resolver.resolve(zone.name, "NS") == ("ns1.elsewhere.example",)


async def test_the_txt_marker_resolves_unquoted(
    dns_zones: Route53DnsZones, dns_resolver: DnspythonResolver, zone: HostedZone
) -> None:
    marker = "registration-" + "7" * 300
    await dns_zones.upsert(
        zone.id, [DnsRecord(name=f"_smarter.{zone.name}", type="TXT", values=(marker,), ttl=60)]
    )

    assert await dns_resolver.resolve(f"_smarter.{zone.name}", "TXT") == (marker,)
    assert await dns_resolver.resolve(f"_smarter.{zone.name}", "A") == ()


async def test_a_cname_answers_its_target_and_an_a_question_follows_it(
    dns_zones: Route53DnsZones, dns_resolver: DnspythonResolver, zone: HostedZone
) -> None:
    await dns_zones.upsert(
        zone.id,
        [
            DnsRecord(name=f"ingress.{zone.name}", type="A", values=("10.0.0.5",)),
            DnsRecord(name=f"chat.{zone.name}", type="CNAME", values=(f"ingress.{zone.name}",)),
        ],
    )

    assert await dns_resolver.resolve(f"chat.{zone.name}", "CNAME") == (f"ingress.{zone.name}",)
    assert await dns_resolver.resolve(f"Chat.{zone.name}", "A") == ("10.0.0.5",)


async def test_a_wildcard_record_answers_names_without_records_of_their_own(
    dns_zones: Route53DnsZones, dns_resolver: DnspythonResolver, zone: HostedZone
) -> None:
    await dns_zones.upsert(
        zone.id,
        [
            DnsRecord(name=f"*.apps.{zone.name}", type="A", values=("10.0.0.6",)),
            DnsRecord(name=f"own.apps.{zone.name}", type="A", values=("10.0.0.7",)),
        ],
    )

    assert await dns_resolver.resolve(f"any.apps.{zone.name}", "A") == ("10.0.0.6",)
    assert await dns_resolver.resolve(f"own.apps.{zone.name}", "A") == ("10.0.0.7",)


async def test_missing_names_answer_nxdomain_and_names_with_records_below_them_do_not(
    dns_zones: Route53DnsZones, dns_server: ZoneDnsServer, zone: HostedZone
) -> None:
    await dns_zones.upsert(
        zone.id, [DnsRecord(name=f"deep.inner.{zone.name}", type="A", values=("10.0.0.4",))]
    )

    async def rcode(name: str) -> str:
        query = dns.message.make_query(name, "A")
        answer = await dns.asyncquery.udp(query, "127.0.0.1", port=dns_server.port, timeout=2)
        return dns.rcode.to_text(answer.rcode())

    assert await rcode(f"missing.{zone.name}") == "NXDOMAIN"
    assert await rcode(f"inner.{zone.name}") == "NOERROR"
    assert await rcode(f"deep.inner.{zone.name}") == "NOERROR"


async def test_the_server_answers_over_tcp_too(
    dns_zones: Route53DnsZones, dns_server: ZoneDnsServer, zone: HostedZone
) -> None:
    await dns_zones.upsert(zone.id, [DnsRecord(name=zone.name, type="A", values=("10.0.0.8",))])

    answer = await dns.asyncquery.tcp(
        dns.message.make_query(zone.name, "A"), "127.0.0.1", port=dns_server.port, timeout=2
    )

    assert [rr.to_text() for rrset in answer.answer for rr in rrset] == ["10.0.0.8"]


async def test_names_outside_every_delegation_are_refused(
    dns_server: ZoneDnsServer, dns_resolver: DnspythonResolver, zone: HostedZone
) -> None:
    answer = await dns.asyncquery.udp(
        dns.message.make_query("nowhere.invalid", "A"), "127.0.0.1", port=dns_server.port
    )
    assert answer.rcode() == dns.rcode.REFUSED

    dns_server.undelegate(zone.name)
    with pytest.raises(InfrastructureError, match="REFUSED"):
        await dns_resolver.resolve(zone.name, "NS")


async def test_a_delegated_domain_whose_zone_is_deleted_fails_to_resolve(
    dns_zones: Route53DnsZones, dns_resolver: DnspythonResolver, zone: HostedZone
) -> None:
    await dns_zones.delete_zone(zone.id)

    with pytest.raises(InfrastructureError, match="SERVFAIL"):
        await dns_resolver.resolve(f"bot.{zone.name}", "A")


async def test_a_resolver_nobody_answers_times_out_as_an_infrastructure_error(
    silent_port: int,
) -> None:
    resolver = DnspythonResolver([f"127.0.0.1:{silent_port}"], timeout=0.3)
    started = time.monotonic()

    with pytest.raises(InfrastructureError, match="timed out"):
        await resolver.resolve("bot.example.test", "A")

    assert time.monotonic() - started < 1.5


async def test_unsupported_record_types_are_a_programming_error(
    dns_resolver: DnspythonResolver,
) -> None:
    with pytest.raises(ValueError, match="MX"):
        await dns_resolver.resolve("example.test", "MX")


@pytest.mark.parametrize(
    ("entry", "address", "port"),
    [
        ("10.0.0.2", "10.0.0.2", 53),
        ("127.0.0.1:5353", "127.0.0.1", 5353),
        ("::1", "::1", 53),
        ("[::1]:5353", "::1", 5353),
    ],
)
def test_nameserver_entries_name_an_address_and_a_port(entry: str, address: str, port: int) -> None:
    nameserver = parse_nameserver(entry)

    assert (nameserver.address, nameserver.port) == (address, port)


def test_a_nameserver_given_by_host_name_is_looked_up_once() -> None:
    nameserver = parse_nameserver("localhost:54")

    assert (nameserver.address, nameserver.port) in (("127.0.0.1", 54), ("::1", 54))


async def test_delegate_all_plays_a_registrar_for_every_zone_by_name(
    route53_client: Any, dns_zones: Route53DnsZones, unique_domain: str
) -> None:
    first = await dns_zones.ensure_zone(unique_domain, "all-1-" + unique_domain)
    await dns_zones.ensure_zone(unique_domain, "all-2-" + unique_domain)
    await dns_zones.upsert(
        first.id, [DnsRecord(name=f"_smarter.{unique_domain}", type="TXT", values=("first",))]
    )
    with ZoneDnsServer(route53_client) as server:
        resolver = DnspythonResolver([server.nameserver], timeout=2.0)
        server.delegate_all()
        assert await resolver.resolve(f"_smarter.{unique_domain}", "TXT") == ("first",)

        await dns_zones.delete_zone(first.id)
        server.delegate_all()
        assert await resolver.resolve(f"_smarter.{unique_domain}", "TXT") == ()
