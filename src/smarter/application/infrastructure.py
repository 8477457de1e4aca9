"""Ports of the outside world the provisioning worker drives: DNS zones, DNS resolution, the
Kubernetes cluster, certificates and the job queue.

Every call is idempotent: applying what is there already, or deleting what is gone, succeeds.
Nothing here waits for long: a caller that must wait (DNS propagation, certificate issuance)
asks again in a later job.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal, Protocol

import msgspec

from smarter.application.jobs import Job


class InfrastructureError(Exception):
    """A provider failed in a way a retry may mend (throttling, timeouts, 5xx)."""


class DnsRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One record set: a fully qualified name without the trailing dot, lower case."""

    name: str
    type: str  # "A", "CNAME", "TXT", "NS"
    values: tuple[str, ...]  # TXT values without their quotes
    ttl: int = 300


RecordAction = Literal["UPSERT", "DELETE"]


class RecordChange(msgspec.Struct, frozen=True, kw_only=True):
    """One change of a change batch."""

    action: RecordAction
    record: DnsRecord


class SubmittedChange(msgspec.Struct, frozen=True, kw_only=True):
    """A change batch the provider accepted: its id, and whether it is live already."""

    id: str
    in_sync: bool = False


class DnsChangeRejected(Exception):
    """The provider refused a change batch as invalid: sending it again cannot help."""


class HostedZone(msgspec.Struct, frozen=True, kw_only=True):
    id: str  # Route 53's id without the "/hostedzone/" prefix
    name: str  # without the trailing dot
    name_servers: tuple[str, ...]


class DnsZones(Protocol):
    async def ensure_zone(self, name: str, caller_reference: str) -> HostedZone:
        """The zone created with this caller reference, created now if there is none."""
        ...

    async def find_zone(self, name: str) -> HostedZone | None:
        """The first zone named `name` (the platform's own zone is looked up this way)."""
        ...

    async def get_zone(self, zone_id: str) -> HostedZone | None: ...

    async def delete_zone(self, zone_id: str) -> None:
        """Delete the zone with every record the platform wrote in it; a missing zone is fine."""
        ...

    async def upsert(self, zone_id: str, records: Sequence[DnsRecord]) -> str:
        """Create or replace the record sets in one change batch; returns the change id."""
        ...

    async def delete(self, zone_id: str, records: Sequence[DnsRecord]) -> str | None:
        """Delete the record sets that exist (by name and type); None if none did."""
        ...

    async def apply(self, zone_id: str, changes: Sequence[RecordChange]) -> SubmittedChange:
        """Send `changes` as one change batch, exactly as given (a DELETE must name the record
        set as it stands); DnsChangeRejected when the provider refuses the batch."""
        ...

    async def is_in_sync(self, change_id: str) -> bool: ...

    async def records(self, zone_id: str) -> list[DnsRecord]: ...

    async def record(self, zone_id: str, name: str, type_: str) -> DnsRecord | None:
        """The record set `name`/`type_` as the zone holds it, or None."""
        ...


class DnsResolver(Protocol):
    async def resolve(self, name: str, rdtype: str) -> tuple[str, ...]:
        """The answers (names without trailing dot, lower case; TXT unquoted); () when there
        is no such name or no record of that type. Raises InfrastructureError on timeouts."""
        ...


class Ingress(msgspec.Struct, frozen=True, kw_only=True):
    """One host's Ingress; `name` is derived from the host by the adapter's caller."""

    name: str
    host: str
    tls_secret: str
    labels: Mapping[str, str]


class Cluster(Protocol):
    async def apply_ingress(self, ingress: Ingress) -> None: ...
    async def get_ingress(self, name: str) -> Ingress | None: ...
    async def delete_ingress(self, name: str) -> None: ...


class CertificateState(enum.StrEnum):
    ABSENT = "absent"
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class CertificateStatus(msgspec.Struct, frozen=True, kw_only=True):
    state: CertificateState
    not_before: datetime | None = None
    not_after: datetime | None = None
    reason: str = ""


class Certificates(Protocol):
    """Orders certificates and keeps them in a TLS secret of the same name.

    `request` for a name that is pending or ready with the same hosts does nothing; with
    `renew=True` a ready certificate is ordered again (the old one serves until then).
    """

    async def request(self, name: str, hosts: Sequence[str], *, renew: bool = False) -> None: ...
    async def status(self, name: str) -> CertificateStatus: ...
    async def delete(self, name: str) -> None:
        """Remove the certificate and its secret; missing is fine."""
        ...


class JobQueue(Protocol):
    async def enqueue(self, job: Job, *, delay_seconds: float = 0.0) -> None:
        """Queue `job` once: a job with the same key that is queued already is not added twice,
        and two workers never run jobs of the same key at once."""
        ...
