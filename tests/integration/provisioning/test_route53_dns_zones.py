"""Route53DnsZones against moto's Route 53 over HTTP (and two hand-written stand-ins where moto
is kinder than the real service: repeated caller references, by-name pagination, throttling)."""

from __future__ import annotations

import os
import socket
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from smarter.adapters.request_budgets import LocalRequestBudget, RedisRequestBudget
from smarter.adapters.route53_dns_zones import Route53DnsZones
from smarter.adapters.route53_dns_zones import (
    route53_client as make_route53_client,
)
from smarter.adapters.route53_records import normalize_name, quote_txt, unquote_txt
from smarter.application.infrastructure import (
    DnsChangeRejected,
    DnsRecord,
    HostedZone,
    InfrastructureError,
    RecordChange,
)
from tests.support.moto_server import TEST_CREDENTIALS
from tests.support.route53_server import Route53Process

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _error(code: str, status: int = 400, message: str = "") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message or code},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "Operation",
    )


class RealRoute53:
    """moto's client made to behave like the real service where the adapter must cope:
    a repeated caller reference is refused, and list_hosted_zones_by_name returns pages of
    MaxItems zones starting at (DNSName, HostedZoneId) across all names, sorted."""

    def __init__(self, client: Any, *, hide_reference_once: str | None = None) -> None:
        self._client = client
        self._hide = hide_reference_once  # plays a worker that created it just after our look
        self.by_name_pages = 0
        self._used: set[str] = set()  # Route 53 never forgets a caller reference

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def create_hosted_zone(self, **kwargs: Any) -> Any:
        reference = kwargs["CallerReference"]
        if reference in self._used or reference in self._references():
            raise _error("HostedZoneAlreadyExists", 409)
        self._used.add(reference)
        return self._client.create_hosted_zone(**kwargs)

    def list_hosted_zones_by_name(self, **kwargs: Any) -> Any:
        self.by_name_pages += 1
        zones = self._client.list_hosted_zones_by_name()["HostedZones"]  # all, sorted
        if self._hide is not None:
            zones = [z for z in zones if z["CallerReference"] != self._hide]
            self._hide = None
        start = (kwargs.get("DNSName", "").rstrip(".") + ".", kwargs.get("HostedZoneId"))
        keys = [(z["Name"], z["Id"].rsplit("/", 1)[-1]) for z in zones]
        first = next(
            (
                i
                for i, (name, zid) in enumerate(keys)
                if name == start[0] and start[1] in (None, zid)
            ),
            len(zones),
        )
        size = int(kwargs.get("MaxItems", 100))
        page = zones[first : first + size]
        rest = zones[first + size :]
        answer: dict[str, Any] = {"HostedZones": page, "IsTruncated": bool(rest)}
        if rest:
            answer["NextDNSName"] = rest[0]["Name"]
            answer["NextHostedZoneId"] = rest[0]["Id"].rsplit("/", 1)[-1]
        return answer

    def _references(self) -> dict[str, str]:
        found: dict[str, str] = {}
        kwargs: dict[str, Any] = {}
        while True:
            page = self._client.list_hosted_zones(**kwargs)
            found.update({z["CallerReference"]: z["Id"] for z in page["HostedZones"]})
            if not page["IsTruncated"]:
                return found
            kwargs["Marker"] = page["NextMarker"]


class DeletedMeanwhile:
    """moto's client where another worker deletes the record sets of the first change batch
    just before it arrives, so Route 53 refuses it as the real service does."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.refused = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def change_resource_record_sets(self, **kwargs: Any) -> Any:
        if not self.refused:
            self.refused += 1
            self._client.change_resource_record_sets(**kwargs)
            raise _error(
                "InvalidChangeBatch",
                400,
                "Tried to delete resource record set but it was not found",
            )
        return self._client.change_resource_record_sets(**kwargs)


class Throttled:
    """A client whose calls fail with `errors` first, then answer `result`."""

    def __init__(self, errors: list[ClientError], result: Any = None) -> None:
        self.errors = list(errors)
        self.result = result
        self.calls = 0

    def get_hosted_zone(self, **_: Any) -> Any:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.result


ZONE_ANSWER = {
    "HostedZone": {"Id": "/hostedzone/Z1", "Name": "example.test."},
    "DelegationSet": {"NameServers": ["ns-1.example.net."]},
}


# --- zones ---


async def test_ensure_zone_twice_with_one_caller_reference_returns_the_same_zone(
    dns_zones: Route53DnsZones, unique_domain: str
) -> None:
    first = await dns_zones.ensure_zone(unique_domain, "ref-" + unique_domain)
    second = await dns_zones.ensure_zone(unique_domain.upper() + ".", "ref-" + unique_domain)

    assert second == first
    assert first.name == unique_domain
    assert first.name_servers and all(not ns.endswith(".") for ns in first.name_servers)


async def test_a_different_caller_reference_creates_another_zone_of_the_same_name(
    dns_zones: Route53DnsZones, unique_domain: str
) -> None:
    first = await dns_zones.ensure_zone(unique_domain, "account-1-" + unique_domain)
    second = await dns_zones.ensure_zone(unique_domain, "account-2-" + unique_domain)

    assert second.id != first.id
    assert second.name == first.name == unique_domain


async def test_ensure_zone_finds_its_zone_on_a_later_page_of_zones_with_that_name(
    route53_client: Any, unique_domain: str
) -> None:
    real = RealRoute53(route53_client)
    zones = Route53DnsZones(real, page_size=2)
    made = [await zones.ensure_zone(unique_domain, f"{unique_domain}-{i}") for i in range(5)]

    real.by_name_pages = 0
    again = await zones.ensure_zone(unique_domain, f"{unique_domain}-4")

    assert again == made[4]
    assert real.by_name_pages == 3
    assert len({zone.id for zone in made}) == 5


async def test_ensure_zone_returns_the_zone_when_route53_refuses_a_repeated_caller_reference(
    route53_client: Any, unique_domain: str
) -> None:
    made = await Route53DnsZones(route53_client).ensure_zone(unique_domain, "race-" + unique_domain)
    # Our look finds nothing (the other worker's zone is not listed yet), our create is refused.
    racing = Route53DnsZones(
        RealRoute53(route53_client, hide_reference_once="race-" + unique_domain), page_size=2
    )

    assert await racing.ensure_zone(unique_domain, "race-" + unique_domain) == made


async def test_ensure_zone_fails_clearly_when_the_caller_reference_made_a_zone_of_another_name(
    route53_client: Any, unique_domain: str
) -> None:
    zones = Route53DnsZones(RealRoute53(route53_client))
    await zones.ensure_zone(unique_domain, "taken-" + unique_domain)

    with pytest.raises(InfrastructureError, match="caller reference"):
        await zones.ensure_zone("other-" + unique_domain, "taken-" + unique_domain)


async def test_ensure_zone_fails_clearly_when_the_caller_reference_made_a_deleted_zone(
    route53_client: Any, unique_domain: str
) -> None:
    zones = Route53DnsZones(RealRoute53(route53_client))
    zone = await zones.ensure_zone(unique_domain, "once-" + unique_domain)
    await zones.delete_zone(zone.id)

    with pytest.raises(InfrastructureError, match="a zone that was deleted; use a new reference"):
        await zones.ensure_zone(unique_domain, "once-" + unique_domain)


async def test_find_zone_pages_through_zones_by_name(
    route53_client: Any, unique_domain: str
) -> None:
    zones = Route53DnsZones(RealRoute53(route53_client), page_size=2)
    for i in range(3):
        await zones.ensure_zone(f"a{i}.{unique_domain}", f"{unique_domain}-a{i}")
    wanted = await zones.ensure_zone(f"b.{unique_domain}", f"{unique_domain}-b")

    assert await zones.find_zone(f"B.{unique_domain}.") == wanted
    assert await zones.find_zone(f"c.{unique_domain}") is None


async def test_get_zone_of_an_unknown_id_is_none(dns_zones: Route53DnsZones) -> None:
    assert await dns_zones.get_zone("ZNOSUCHZONE0000") is None


async def test_delete_zone_removes_every_record_then_the_zone(
    route53_client: Any, unique_domain: str
) -> None:
    zones = Route53DnsZones(route53_client, page_size=2)
    zone = await zones.ensure_zone(unique_domain, "del-" + unique_domain)
    await zones.upsert(
        zone.id,
        [
            DnsRecord(name=f"h{i}.{unique_domain}", type="A", values=(f"10.0.0.{i}",), ttl=60)
            for i in range(5)
        ]
        + [DnsRecord(name=f"_smarter.{unique_domain}", type="TXT", values=("marker",))],
    )

    await zones.delete_zone(zone.id)

    assert await zones.get_zone(zone.id) is None
    await zones.delete_zone(zone.id)  # gone already: fine
    await zones.delete_zone("/hostedzone/ZNOSUCHZONE0000")


# --- records ---


async def test_upserted_records_read_back_normalized_with_txt_unquoted(
    dns_zones: Route53DnsZones, route53_client: Any, unique_domain: str
) -> None:
    zone = await dns_zones.ensure_zone(unique_domain, "rec-" + unique_domain)
    marker = 'id "42" \\ ' + "x" * 300  # quotes, a backslash, longer than one TXT string
    change = await dns_zones.upsert(
        zone.id,
        [
            DnsRecord(name=f"Bot.{unique_domain.upper()}.", type="A", values=("10.1.2.3",)),
            DnsRecord(name=f"_smarter.{unique_domain}", type="TXT", values=(marker, "b")),
            DnsRecord(name=f"www.{unique_domain}", type="CNAME", values=("Ingress.Example.COM.",)),
        ],
    )

    assert change and await dns_zones.is_in_sync(change)
    records = {(r.name, r.type): r for r in await dns_zones.records(zone.id)}
    assert records[(f"bot.{unique_domain}", "A")].values == ("10.1.2.3",)
    assert records[(f"_smarter.{unique_domain}", "TXT")].values == (marker, "b")
    assert records[(f"www.{unique_domain}", "CNAME")].values == ("ingress.example.com",)
    assert (unique_domain, "NS") in records
    raw = route53_client.list_resource_record_sets(
        HostedZoneId=zone.id, StartRecordName=f"_smarter.{unique_domain}", StartRecordType="TXT"
    )["ResourceRecordSets"][0]["ResourceRecords"][0]["Value"]
    assert raw.startswith('"id \\"42\\" \\\\ ') and raw.endswith('"')


async def test_upsert_replaces_the_values_of_a_record_set(
    dns_zones: Route53DnsZones, unique_domain: str
) -> None:
    zone = await dns_zones.ensure_zone(unique_domain, "rep-" + unique_domain)
    name = f"host.{unique_domain}"
    await dns_zones.upsert(zone.id, [DnsRecord(name=name, type="A", values=("10.0.0.1",))])
    await dns_zones.upsert(
        zone.id, [DnsRecord(name=name, type="A", values=("10.0.0.2", "10.0.0.3"), ttl=30)]
    )

    [record] = [r for r in await dns_zones.records(zone.id) if r.name == name]
    assert record == DnsRecord(name=name, type="A", values=("10.0.0.2", "10.0.0.3"), ttl=30)


async def test_delete_removes_the_named_record_sets_whatever_values_the_caller_gives(
    dns_zones: Route53DnsZones, unique_domain: str
) -> None:
    zone = await dns_zones.ensure_zone(unique_domain, "rm-" + unique_domain)
    name = f"host.{unique_domain}"
    await dns_zones.upsert(
        zone.id,
        [
            DnsRecord(name=name, type="A", values=("10.0.0.1",), ttl=42),
            DnsRecord(name=name, type="TXT", values=("keep me",)),
        ],
    )

    change = await dns_zones.delete(zone.id, [DnsRecord(name=name.upper(), type="A", values=())])

    assert change is not None and await dns_zones.is_in_sync(change)
    left = [(r.name, r.type) for r in await dns_zones.records(zone.id) if r.name == name]
    assert left == [(name, "TXT")]


async def test_deleting_records_that_do_not_exist_is_a_no_op(
    dns_zones: Route53DnsZones, unique_domain: str
) -> None:
    zone = await dns_zones.ensure_zone(unique_domain, "noop-" + unique_domain)
    missing = DnsRecord(name=f"gone.{unique_domain}", type="CNAME", values=("x.example.com",))

    assert await dns_zones.delete(zone.id, [missing]) is None
    assert await dns_zones.delete("ZNOSUCHZONE0000", [missing]) is None


async def test_a_record_deleted_by_someone_else_meanwhile_is_not_an_error(
    dns_zones: Route53DnsZones, route53_client: Any, unique_domain: str
) -> None:
    zone = await dns_zones.ensure_zone(unique_domain, "race-rm-" + unique_domain)
    record = DnsRecord(name=f"host.{unique_domain}", type="A", values=("10.0.0.1",))
    await dns_zones.upsert(zone.id, [record])
    racing = DeletedMeanwhile(route53_client)

    assert await Route53DnsZones(racing).delete(zone.id, [record]) is None
    assert racing.refused == 1
    assert [r for r in await dns_zones.records(zone.id) if r.type == "A"] == []


async def test_records_page_through_large_zones(route53_client: Any, unique_domain: str) -> None:
    zones = Route53DnsZones(route53_client, page_size=2)
    zone = await zones.ensure_zone(unique_domain, "page-" + unique_domain)
    wanted = {f"h{i}.{unique_domain}" for i in range(7)}
    await zones.upsert(zone.id, [DnsRecord(name=n, type="A", values=("10.0.0.9",)) for n in wanted])

    names = {r.name for r in await zones.records(zone.id) if r.type == "A"}

    assert names == wanted


async def test_an_empty_upsert_changes_nothing_and_is_in_sync(
    dns_zones: Route53DnsZones,
) -> None:
    assert await dns_zones.upsert("ZANY", []) == ""
    assert await dns_zones.is_in_sync("")


async def test_route53_refusals_become_infrastructure_errors(
    dns_zones: Route53DnsZones,
) -> None:
    with pytest.raises(InfrastructureError, match="NoSuchHostedZone"):
        await dns_zones.upsert(
            "ZNOSUCHZONE0000", [DnsRecord(name="a.example.test", type="A", values=("10.0.0.1",))]
        )


# --- failures and retries ---


async def test_throttling_is_retried_with_backoff_until_route53_answers() -> None:
    client = Throttled(
        [
            _error("Throttling"),
            _error("PriorRequestNotComplete"),
            _error("ThrottlingException", 429),
        ],
        ZONE_ANSWER,
    )
    zones = Route53DnsZones(client, base_delay=0.01)

    zone = await zones.get_zone("Z1")

    assert zone is not None and zone.name == "example.test"
    assert zone.name_servers == ("ns-1.example.net",)
    assert client.calls == 4


async def test_throttling_that_does_not_stop_gives_up_after_a_few_short_attempts() -> None:
    client = Throttled([_error("Throttling")] * 10)
    zones = Route53DnsZones(client, max_attempts=4, base_delay=0.01)
    started = time.monotonic()

    with pytest.raises(InfrastructureError, match="Throttling"):
        await zones.get_zone("Z1")

    assert client.calls == 4
    assert time.monotonic() - started < 1.0


async def test_other_refusals_are_not_retried() -> None:
    client = Throttled([_error("AccessDenied", 403, "not allowed")], ZONE_ANSWER)

    with pytest.raises(InfrastructureError, match="AccessDenied: not allowed"):
        await Route53DnsZones(client, base_delay=0.01).get_zone("Z1")
    assert client.calls == 1


async def test_an_unreachable_endpoint_is_an_infrastructure_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_route53_client("us-east-1", f"http://127.0.0.1:{port}", **TEST_CREDENTIALS)

    with pytest.raises(InfrastructureError, match="Route 53 get_hosted_zone failed"):
        await Route53DnsZones(client).get_zone("Z1")


# --- names and values ---


def test_names_are_normalized_like_route53_writes_them() -> None:
    assert normalize_name("\\052.Bots.Example.COM.") == "*.bots.example.com"
    assert normalize_name("example.com") == "example.com"


def test_txt_values_round_trip_through_route53_quoting() -> None:
    for value in ("", "plain", 'with "quotes" and \\', "y" * 600):
        assert unquote_txt(quote_txt(value)) == value
    assert quote_txt("y" * 300).count('"') == 4  # two strings of at most 255 characters


# --- change batches, budgets and throttling, counted at the server ---


def recorded_client(server: Route53Process) -> Any:
    return make_route53_client("us-east-1", server.url, **TEST_CREDENTIALS)


class RecordingBudget:
    def __init__(self) -> None:
        self.reserved = 0
        self.penalties: list[float] = []

    def take(self, cost: float = 1.0) -> None:
        self.reserved += 1

    def penalize(self, seconds: float) -> None:
        self.penalties.append(seconds)


async def test_a_change_batch_goes_out_as_one_request_and_reports_whether_it_is_live(
    route53_server: Route53Process, route53_client: Any, delegated_zone: HostedZone
) -> None:
    zones = Route53DnsZones(
        make_route53_client("us-east-1", route53_server.url, **TEST_CREDENTIALS)
    )
    since = time.monotonic()
    changes = [
        RecordChange(
            action="UPSERT",
            record=DnsRecord(name=f"h{i}.{delegated_zone.name}", type="A", values=("10.0.0.1",)),
        )
        for i in range(20)
    ]

    submitted = await zones.apply(delegated_zone.id, changes)

    assert submitted.in_sync  # moto applies at once
    assert len(route53_server.operations("ChangeResourceRecordSets", since)) == 1
    assert len(route53_server.record_changes(since)) == 20
    stored = {r.name for r in await zones.records(delegated_zone.id)}
    assert {c.record.name for c in changes} <= stored


async def test_a_batch_route53_refuses_as_invalid_is_a_rejection_not_a_provider_error(
    route53_server: Route53Process, delegated_zone: HostedZone
) -> None:
    zones = Route53DnsZones(
        make_route53_client("us-east-1", route53_server.url, **TEST_CREDENTIALS)
    )
    never_written = DnsRecord(name=f"gone.{delegated_zone.name}", type="A", values=("10.0.0.9",))

    with pytest.raises(DnsChangeRejected):
        await zones.apply(delegated_zone.id, [RecordChange(action="DELETE", record=never_written)])


async def test_throttled_requests_back_off_with_jitter_and_push_the_shared_budget_back(
    route53_server: Route53Process, delegated_zone: HostedZone
) -> None:
    budget = RecordingBudget()
    zones = Route53DnsZones(recorded_client(route53_server), base_delay=0.01, requests=budget)
    since = time.monotonic()
    route53_server.refuse_next(2, "Throttling")
    route53_server.refuse_next(1, "PriorRequestNotComplete")

    zone = await zones.get_zone(delegated_zone.id)

    assert zone is not None and zone.id == delegated_zone.id
    assert [r.operation for r in route53_server.operations(since=since)] == ["GetHostedZone"] * 4
    assert budget.reserved == 4  # every attempt takes a token
    assert len(budget.penalties) == 3 and all(0 <= p <= 0.08 for p in budget.penalties)


async def test_a_record_change_budget_counts_each_change_of_a_batch(
    route53_server: Route53Process, delegated_zone: HostedZone
) -> None:
    changes_budget = LocalRequestBudget(rate=10, burst=30, clock=lambda: 100.0)
    zones = Route53DnsZones(recorded_client(route53_server), record_changes=changes_budget)
    batch = [
        RecordChange(
            action="UPSERT",
            record=DnsRecord(name=f"c{i}.{delegated_zone.name}", type="A", values=("10.0.0.1",)),
        )
        for i in range(25)
    ]

    await zones.apply(delegated_zone.id, batch)

    # 25 of the 30 saved up are spent: 6 more wait (6 - 5) / 10 s.
    assert changes_budget.book(6) == pytest.approx(0.1)


def test_a_redis_budget_is_shared_by_every_process_on_the_same_key() -> None:
    from redis import Redis

    redis = Redis.from_url(REDIS_URL)
    key = f"test-budget-{uuid.uuid4().hex}"
    try:
        # One token a second: the refill while the test runs is negligible next to that.
        one = RedisRequestBudget(redis, key, rate=1, burst=2)
        two = RedisRequestBudget(redis, key, rate=1, burst=2)
        waits = [one.book(), two.book(), one.book(), two.book()]
        assert waits[:2] == [0.0, 0.0]
        assert 0.5 < waits[2] <= 1.0
        assert waits[2] + 0.5 < waits[3] <= 2.0
        one.penalize(10.0)
        assert two.book() > waits[3] + 10.0
    finally:
        redis.delete(key)
        redis.close()
