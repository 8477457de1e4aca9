"""Hand-written fakes of the infrastructure ports: zones, resolver, cluster, certificates.

They keep state in dicts and share a `Calls` log, which can also make the Nth call (or the
next call of one operation) fail: `InfrastructureError` for a provider hiccup, `Crash` for a
worker dying between two steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from smarter.application.infrastructure import (
    CertificateState,
    CertificateStatus,
    DnsChangeRejected,
    DnsRecord,
    HostedZone,
    InfrastructureError,
    Ingress,
    RecordChange,
    SubmittedChange,
)
from tests.fakes import FakeClock

CERTIFICATE_LIFETIME = timedelta(days=90)


class Crash(Exception):
    """The worker died here."""


class Calls:
    def __init__(self) -> None:
        self.log: list[str] = []
        self.crash_at: int | None = None  # the number of the call that crashes
        self.errors: dict[str, list[Exception]] = {}  # operation → errors to raise next
        self.hooks: dict[str, Callable[[], None]] = {}  # operation → done first, once

    def __call__(self, operation: str) -> None:
        self.log.append(operation)
        if hook := self.hooks.pop(operation, None):
            hook()
        if self.crash_at is not None and len(self.log) == self.crash_at:
            self.crash_at = None
            raise Crash(operation)
        if self.errors.get(operation):
            raise self.errors[operation].pop(0)

    def fail_next(self, operation: str, times: int = 1) -> None:
        self.errors[operation] = [InfrastructureError(f"{operation} failed")] * times

    def count(self, operation: str) -> int:
        return self.log.count(operation)


class FakeDnsZones:
    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.zones: dict[str, HostedZone] = {}
        self.by_reference: dict[str, str] = {}
        self.record_sets: dict[str, dict[tuple[str, str], DnsRecord]] = {}
        self.changes: dict[str, bool] = {}  # change id → in sync
        self.sync_at_once = True
        self.batches: list[list[RecordChange]] = []  # what `apply` accepted, batch by batch
        self.refuse: set[str] = set()  # record names whose changes are refused
        self._ids = 0

    def _next(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids:04d}"

    async def ensure_zone(self, name: str, caller_reference: str) -> HostedZone:
        self.calls("zones.ensure_zone")
        if caller_reference in self.by_reference:
            return self.zones[self.by_reference[caller_reference]]
        zone_id = self._next("Z")
        zone = HostedZone(
            id=zone_id,
            name=name,
            name_servers=tuple(f"ns-{zone_id.lower()}-{i}.awsdns.test" for i in range(1, 5)),
        )
        self.zones[zone_id], self.by_reference[caller_reference] = zone, zone_id
        self.record_sets[zone_id] = {}
        return zone

    async def find_zone(self, name: str) -> HostedZone | None:
        self.calls("zones.find_zone")
        return next((z for z in self.zones.values() if z.name == name), None)

    async def get_zone(self, zone_id: str) -> HostedZone | None:
        self.calls("zones.get_zone")
        return self.zones.get(zone_id)

    async def delete_zone(self, zone_id: str) -> None:
        self.calls("zones.delete_zone")
        self.zones.pop(zone_id, None)
        self.record_sets.pop(zone_id, None)

    async def upsert(self, zone_id: str, records: Sequence[DnsRecord]) -> str:
        self.calls("zones.upsert")
        for record in records:
            self.record_sets[zone_id][(record.name, record.type)] = record
        change = self._next("C")
        self.changes[change] = self.sync_at_once
        return change

    async def delete(self, zone_id: str, records: Sequence[DnsRecord]) -> str | None:
        self.calls("zones.delete")
        present = self.record_sets.get(zone_id, {})
        gone = [present.pop((r.name, r.type), None) for r in records]
        return self._next("C") if any(gone) else None

    async def apply(self, zone_id: str, changes: Sequence[RecordChange]) -> SubmittedChange:
        """All or nothing, like Route 53: a DELETE must match the record set as it stands,
        and names in `refuse` are refused."""
        self.calls("zones.apply")
        present = self.record_sets.setdefault(zone_id, {})
        for change in changes:
            key = (change.record.name, change.record.type)
            stale = change.action == "DELETE" and present.get(key) != change.record
            if stale or change.record.name in self.refuse:
                raise DnsChangeRejected(f"Tried to change {change.record.name}")
        for change in changes:
            key = (change.record.name, change.record.type)
            if change.action == "UPSERT":
                present[key] = change.record
            else:
                present.pop(key, None)
        self.batches.append(list(changes))
        change_id = self._next("C")
        self.changes[change_id] = self.sync_at_once
        return SubmittedChange(id=change_id, in_sync=self.sync_at_once)

    async def is_in_sync(self, change_id: str) -> bool:
        self.calls("zones.is_in_sync")
        return self.changes.get(change_id, True)

    async def records(self, zone_id: str) -> list[DnsRecord]:
        self.calls("zones.records")
        return list(self.record_sets.get(zone_id, {}).values())

    async def record(self, zone_id: str, name: str, type_: str) -> DnsRecord | None:
        self.calls("zones.record")
        return self.record_sets.get(zone_id, {}).get((name, type_))

    def all_records(self) -> list[DnsRecord]:
        return [r for sets in self.record_sets.values() for r in sets.values()]


class FakeDnsResolver:
    """Answers from the fake zones as the public DNS would: a name from the zone its closest
    delegated domain points to (the registrar's NS records, set by the test), or from a
    public zone (the platform's); anything else does not resolve."""

    def __init__(
        self, calls: Calls, zones: FakeDnsZones, public: tuple[str, ...] = ("example.com",)
    ) -> None:
        self.calls, self._zones = calls, zones
        self.public = public  # zones delegated already (the platform's own)
        self.delegations: dict[str, str] = {}  # domain → zone id its NS records point to
        self.answering = True  # False: nothing resolves yet (propagation)
        # Records outside the platform's zones, as a customer's DNS provider serves them.
        self.elsewhere: dict[tuple[str, str], tuple[str, ...]] = {}

    async def resolve(self, name: str, rdtype: str) -> tuple[str, ...]:
        self.calls("resolver.resolve")
        if not self.answering:
            return ()
        if (name, rdtype) in self.elsewhere:
            return self.elsewhere[(name, rdtype)]
        zone_id = self._authority(name)
        if zone_id is None or zone_id not in self._zones.zones:
            return ()
        if rdtype == "NS" and name == self._zones.zones[zone_id].name:
            return self._zones.zones[zone_id].name_servers
        record = self._zones.record_sets[zone_id].get((name, rdtype))
        return () if record is None else record.values

    def _authority(self, name: str) -> str | None:
        public = {z.name: z.id for z in self._zones.zones.values() if z.name in self.public}
        delegations = {**public, **self.delegations}
        found = [d for d in delegations if name == d or name.endswith(f".{d}")]
        return delegations[max(found, key=len)] if found else None


class FakeCluster:
    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.ingresses: dict[str, Ingress] = {}

    async def apply_ingress(self, ingress: Ingress) -> None:
        self.calls("cluster.apply_ingress")
        self.ingresses[ingress.name] = ingress

    async def get_ingress(self, name: str) -> Ingress | None:
        self.calls("cluster.get_ingress")
        return self.ingresses.get(name)

    async def delete_ingress(self, name: str) -> None:
        self.calls("cluster.delete_ingress")
        self.ingresses.pop(name, None)


class FakeCertificates:
    """Issues at once unless `issue_at_once` is False; then the test calls `issue` or `fail`.
    A renewal keeps the old certificate ready until the new one is issued."""

    def __init__(self, calls: Calls, clock: FakeClock) -> None:
        self.calls, self._clock = calls, clock
        self.certificates: dict[str, CertificateStatus] = {}
        self.hosts: dict[str, tuple[str, ...]] = {}
        self.orders: list[tuple[str, tuple[str, ...], bool]] = []  # name, hosts, renew
        self.renewing: set[str] = set()
        self.issue_at_once = True

    async def request(self, name: str, hosts: Sequence[str], *, renew: bool = False) -> None:
        self.calls("certificates.request")
        current = self.certificates.get(name)
        busy = current is not None and current.state in (
            CertificateState.PENDING,
            CertificateState.READY,
        )
        if busy and not renew and self.hosts.get(name) == tuple(hosts):
            return
        self.orders.append((name, tuple(hosts), renew))
        self.hosts[name] = tuple(hosts)
        if self.issue_at_once:
            self.issue(name)
        elif renew and current is not None and current.state is CertificateState.READY:
            self.renewing.add(name)
        else:
            self.certificates[name] = CertificateStatus(state=CertificateState.PENDING)

    async def status(self, name: str) -> CertificateStatus:
        self.calls("certificates.status")
        return self.certificates.get(name, CertificateStatus(state=CertificateState.ABSENT))

    async def delete(self, name: str) -> None:
        self.calls("certificates.delete")
        self.certificates.pop(name, None)
        self.hosts.pop(name, None)
        self.renewing.discard(name)

    def issue(self, name: str) -> None:
        now = self._clock.now()
        self.renewing.discard(name)
        self.certificates[name] = CertificateStatus(
            state=CertificateState.READY, not_before=now, not_after=now + CERTIFICATE_LIFETIME
        )

    def fail(self, name: str, reason: str) -> None:
        self.renewing.discard(name)
        self.certificates[name] = CertificateStatus(state=CertificateState.FAILED, reason=reason)
