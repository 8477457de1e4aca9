"""In-process stand-ins for the `local` environment, where hosts need no DNS, certificate or
Ingress: what the reconciler writes is kept in memory and reads back at once, so a deployed
local client becomes ready in one run. Nothing here talks to the network.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from smarter.application.infrastructure import (
    CertificateState,
    CertificateStatus,
    DnsRecord,
    HostedZone,
    Ingress,
    RecordChange,
    SubmittedChange,
)
from smarter.application.ports import Clock

LOCAL_NAME_SERVERS = ("ns1.localhost", "ns2.localhost")
LOCAL_CERTIFICATE_LIFETIME = timedelta(days=90)


class MemoryDnsZones:
    """Hosted zones and their record sets in a dict; every change is in sync at once."""

    def __init__(self) -> None:
        self._zones: dict[str, HostedZone] = {}
        self._references: dict[str, str] = {}  # caller reference -> zone id
        self._records: dict[str, dict[tuple[str, str], DnsRecord]] = {}
        self._lock = asyncio.Lock()

    async def ensure_zone(self, name: str, caller_reference: str) -> HostedZone:
        async with self._lock:
            zone_id = self._references.get(caller_reference)
            if zone_id is not None and zone_id in self._zones:
                return self._zones[zone_id]
            zone = HostedZone(
                id=f"Z{uuid.uuid4().hex[:12].upper()}",
                name=_name(name),
                name_servers=LOCAL_NAME_SERVERS,
            )
            self._zones[zone.id] = zone
            self._references[caller_reference] = zone.id
            self._records[zone.id] = {}
            return zone

    async def find_zone(self, name: str) -> HostedZone | None:
        wanted = _name(name)
        return next((z for z in self._zones.values() if z.name == wanted), None)

    async def get_zone(self, zone_id: str) -> HostedZone | None:
        return self._zones.get(zone_id)

    async def delete_zone(self, zone_id: str) -> None:
        self._zones.pop(zone_id, None)
        self._records.pop(zone_id, None)

    async def upsert(self, zone_id: str, records: Sequence[DnsRecord]) -> str:
        zone = self._zone_records(zone_id)
        for record in records:
            zone[(_name(record.name), record.type)] = record
        return _change_id()

    async def delete(self, zone_id: str, records: Sequence[DnsRecord]) -> str | None:
        zone = self._zone_records(zone_id)
        removed = [zone.pop((_name(r.name), r.type), None) for r in records]
        return _change_id() if any(r is not None for r in removed) else None

    async def apply(self, zone_id: str, changes: Sequence[RecordChange]) -> SubmittedChange:
        zone = self._zone_records(zone_id)
        for change in changes:
            key = (_name(change.record.name), change.record.type)
            if change.action == "UPSERT":
                zone[key] = change.record
            else:
                zone.pop(key, None)
        return SubmittedChange(id=_change_id(), in_sync=True)

    async def is_in_sync(self, change_id: str) -> bool:
        return True

    async def records(self, zone_id: str) -> list[DnsRecord]:
        return list(self._zone_records(zone_id).values())

    async def record(self, zone_id: str, name: str, type_: str) -> DnsRecord | None:
        return self._zone_records(zone_id).get((_name(name), type_))

    def answer(self, name: str, rdtype: str) -> tuple[str, ...]:
        """What a resolver would see for `name`: the record of the longest matching zone."""
        wanted = _name(name)
        kind = rdtype.upper()
        enclosing = [
            z for z in self._zones.values() if wanted == z.name or wanted.endswith("." + z.name)
        ]
        if not enclosing:
            return ()
        zone = max(enclosing, key=lambda z: len(z.name))  # the delegated one answers alone
        record = self._records.get(zone.id, {}).get((wanted, kind))
        if record is not None:
            return tuple(v if kind == "TXT" else _name(v) for v in record.values)
        if wanted == zone.name and kind == "NS":
            return zone.name_servers
        return ()

    def _zone_records(self, zone_id: str) -> dict[tuple[str, str], DnsRecord]:
        return self._records.setdefault(zone_id, {})


class MemoryDnsResolver:
    """Answers from a `MemoryDnsZones`, as if every change had propagated already."""

    def __init__(self, zones: MemoryDnsZones) -> None:
        self._zones = zones

    async def resolve(self, name: str, rdtype: str) -> tuple[str, ...]:
        return self._zones.answer(name, rdtype)


class MemoryCluster:
    """Ingresses in a dict, by name."""

    def __init__(self) -> None:
        self.ingresses: dict[str, Ingress] = {}

    async def apply_ingress(self, ingress: Ingress) -> None:
        self.ingresses[ingress.name] = ingress

    async def get_ingress(self, name: str) -> Ingress | None:
        return self.ingresses.get(name)

    async def delete_ingress(self, name: str) -> None:
        self.ingresses.pop(name, None)


class InstantCertificates:
    """Certificates that are ready as soon as they are ordered (local hosts serve plain HTTP)."""

    def __init__(self, clock: Clock, lifetime: timedelta = LOCAL_CERTIFICATE_LIFETIME) -> None:
        self._clock = clock
        self._lifetime = lifetime
        self._issued: dict[str, tuple[tuple[str, ...], datetime]] = {}

    async def request(self, name: str, hosts: Sequence[str], *, renew: bool = False) -> None:
        current = self._issued.get(name)
        if current is None or renew or current[0] != tuple(hosts):
            self._issued[name] = (tuple(hosts), self._clock.now())

    async def status(self, name: str) -> CertificateStatus:
        issued = self._issued.get(name)
        if issued is None:
            return CertificateStatus(state=CertificateState.ABSENT)
        not_before = issued[1]
        return CertificateStatus(
            state=CertificateState.READY,
            not_before=not_before,
            not_after=not_before + self._lifetime,
        )

    async def delete(self, name: str) -> None:
        self._issued.pop(name, None)


def _name(name: str) -> str:
    return name.rstrip(".").lower()


def _change_id() -> str:
    return f"C{uuid.uuid4().hex[:12].upper()}"
