"""DnsZones on boto3's Route 53 client.

boto3 is synchronous: every call runs in a thread of the adapter's own small pool (not the
event loop's shared one, where a queue of other blocking calls would hold a paced request back
and then release several at once). Every call first takes a token from the request budget
(shared by all workers through Redis: Route 53 throttles per AWS account), and a change batch
also takes one token per record change from the record-change budget. `Throttling` and
`PriorRequestNotComplete` answers (and 5xx) push the shared budget back and are retried with
exponential backoff and full jitter, a bounded number of times (botocore's own retries are
switched off in `route53_client`, so there is one policy, not two stacked); every other failure
becomes an `InfrastructureError` naming the operation, except a change batch refused as
invalid, which is `DnsChangeRejected`.

Route 53 quirks handled here:
- Zones found by name are remembered for a while (`find_zone`): the platform's zone is looked
  up by every job that writes a default host, and its id never changes.
- A repeated caller reference is refused by Route 53 (moto accepts it and makes a second zone):
  `ensure_zone` looks for the zone made with that reference before creating one.
- Listings are paginated; every listing here follows the pages to the end.
- DELETE needs the record set exactly as it stands (values and TTL): `delete` reads it first.
- Names and TXT values are normalized at this boundary (route53_records.py).
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from smarter.adapters.request_budgets import RequestBudget
from smarter.adapters.route53_records import (
    bare_id,
    batches,
    dns_record,
    hosted_zone,
    normalize_name,
    record_set,
)
from smarter.application.infrastructure import (
    DnsChangeRejected,
    DnsRecord,
    HostedZone,
    InfrastructureError,
    RecordChange,
    SubmittedChange,
)

THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "PriorRequestNotComplete", "RequestLimitExceeded"}
)
# Route 53 takes at most 1000 changes per batch; smaller batches keep requests small.
CHANGES_PER_BATCH = 100
REFUSED_BATCH_CODES = frozenset({"InvalidChangeBatch", "InvalidInput"})
ZONE_MEMORY_SECONDS = 300.0


def route53_client(
    region: str,
    endpoint_url: str | None = None,
    *,
    aws_access_key_id: str | None = None,
    aws_secret_access_key: str | None = None,
) -> Any:
    """A Route 53 client; credentials come from boto3's usual chain unless given."""
    return boto3.client(
        "route53",
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id=aws_access_key_id,
        aws_secret_access_key=aws_secret_access_key,
        config=Config(
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=5,
            read_timeout=20,
        ),
    )


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _is_retryable(error: ClientError) -> bool:
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return _error_code(error) in THROTTLING_CODES or status >= 500


class Route53DnsZones:
    def __init__(
        self,
        client: Any,
        *,
        page_size: int = 100,
        max_attempts: int = 6,
        base_delay: float = 0.2,
        max_delay: float = 5.0,
        requests: RequestBudget | None = None,
        record_changes: RequestBudget | None = None,
    ) -> None:
        self._client = client
        self._page_size = page_size
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._requests = requests
        self._record_changes = record_changes
        self._zones_by_name: dict[str, tuple[float, HostedZone]] = {}
        self._zone_lookups: dict[str, asyncio.Lock] = {}  # one lookup of a name at a time
        # Enough threads for the calls booked ahead (each waits its turn in its thread).
        self._threads = ThreadPoolExecutor(max_workers=8, thread_name_prefix="route53")

    # --- zones ---

    async def ensure_zone(self, name: str, caller_reference: str) -> HostedZone:
        name = normalize_name(name)
        existing = await self._zone_by_reference(name, caller_reference)
        if existing is not None:
            return existing
        try:
            created = await self._call(
                "create_hosted_zone", Name=name, CallerReference=caller_reference
            )
        except _Refused as refused:
            if refused.code != "HostedZoneAlreadyExists":
                raise
            # Another worker won the race, or the reference names a zone of another name.
            found = await self._zone_by_reference(name, caller_reference, anywhere=True)
            if found is None or found.name != name:
                # Route 53 never forgets a caller reference, even once its zone is deleted.
                owner = f"zone {found.name}" if found else "a zone that was deleted"
                raise InfrastructureError(
                    f"Route 53 refused to create zone {name}: caller reference "
                    f"{caller_reference!r} was used for {owner}; use a new reference"
                ) from refused
            return found
        return hosted_zone(created["HostedZone"], created.get("DelegationSet", {}))

    async def find_zone(self, name: str) -> HostedZone | None:
        name = normalize_name(name)
        lookup = self._zone_lookups.setdefault(name, asyncio.Lock())
        try:
            async with lookup:
                remembered = self._zones_by_name.get(name)
                fresh = remembered and time.monotonic() - remembered[0] < ZONE_MEMORY_SECONDS
                return remembered[1] if remembered and fresh else await self._look_up_zone(name)
        finally:
            if not lookup.locked():  # nobody else is looking it up: keep the dict small
                self._zone_lookups.pop(name, None)

    async def _look_up_zone(self, name: str) -> HostedZone | None:
        async with aclosing(self._zones_named(name)) as zones:
            async for zone in zones:
                if not zone.get("Config", {}).get("PrivateZone", False):
                    found = await self.get_zone(bare_id(zone["Id"]))
                    if found is not None:
                        self._zones_by_name[name] = (time.monotonic(), found)
                    return found
        return None

    async def get_zone(self, zone_id: str) -> HostedZone | None:
        try:
            response = await self._call("get_hosted_zone", Id=bare_id(zone_id))
        except _Refused as refused:
            if refused.code != "NoSuchHostedZone":
                raise
            return None
        return hosted_zone(response["HostedZone"], response.get("DelegationSet", {}))

    async def delete_zone(self, zone_id: str) -> None:
        zone_id = bare_id(zone_id)
        self._zones_by_name = {
            name: found for name, found in self._zones_by_name.items() if found[1].id != zone_id
        }
        try:
            zone = await self._call("get_hosted_zone", Id=zone_id)
            apex = normalize_name(zone["HostedZone"]["Name"])
            # Route 53 refuses to delete a zone holding records other than its apex SOA/NS.
            doomed = [
                rrset
                async for rrset in self._record_sets(zone_id)
                if not (normalize_name(rrset["Name"]) == apex and rrset["Type"] in ("SOA", "NS"))
            ]
            for batch in batches(doomed, CHANGES_PER_BATCH):
                await self._change(zone_id, [("DELETE", rrset) for rrset in batch])
            await self._call("delete_hosted_zone", Id=zone_id)
        except _Refused as refused:
            if refused.code == "NoSuchHostedZone":
                return
            raise

    # --- records ---

    async def upsert(self, zone_id: str, records: Sequence[DnsRecord]) -> str:
        """An empty `records` changes nothing and returns "" (which `is_in_sync` accepts)."""
        if not records:
            return ""
        changes = [("UPSERT", record_set(record)) for record in records]
        return await self._change(bare_id(zone_id), changes)

    async def delete(self, zone_id: str, records: Sequence[DnsRecord]) -> str | None:
        zone_id = bare_id(zone_id)
        # Someone may delete a record between our read and our change: read again and retry.
        for attempt in range(3):
            try:
                current = [
                    rrset
                    for record in records
                    if (rrset := await self._record_set(zone_id, record.name, record.type))
                ]
                if not current:
                    return None
                return await self._change(zone_id, [("DELETE", rrset) for rrset in current])
            except _Refused as refused:
                if refused.code == "NoSuchHostedZone":
                    return None
                gone = refused.code in ("InvalidChangeBatch", "InvalidInput")
                if not gone or attempt == 2:
                    raise
        return None  # pragma: no cover - the loop returns or raises

    async def apply(self, zone_id: str, changes: Sequence[RecordChange]) -> SubmittedChange:
        batch = [(change.action, record_set(change.record)) for change in changes]
        try:
            response = await self._call(
                "change_resource_record_sets",
                cost=len(batch),
                HostedZoneId=bare_id(zone_id),
                ChangeBatch={
                    "Changes": [
                        {"Action": action, "ResourceRecordSet": rrset} for action, rrset in batch
                    ]
                },
            )
        except _Refused as refused:
            if refused.code in REFUSED_BATCH_CODES:
                raise DnsChangeRejected(str(refused)) from refused
            raise
        info = response["ChangeInfo"]
        return SubmittedChange(id=bare_id(info["Id"]), in_sync=info.get("Status") == "INSYNC")

    async def is_in_sync(self, change_id: str) -> bool:
        if not change_id:
            return True
        try:
            response = await self._call("get_change", Id=bare_id(change_id))
        except _Refused as refused:
            # Route 53 forgets changes after a while; one it no longer knows was applied.
            if refused.code == "NoSuchChange":
                return True
            raise
        return bool(response["ChangeInfo"]["Status"] == "INSYNC")

    async def records(self, zone_id: str) -> list[DnsRecord]:
        return [
            dns_record(rrset)
            async for rrset in self._record_sets(bare_id(zone_id))
            if "ResourceRecords" in rrset  # alias records have no values of their own
        ]

    async def record(self, zone_id: str, name: str, type_: str) -> DnsRecord | None:
        try:
            found = await self._record_set(bare_id(zone_id), name, type_)
        except _Refused as refused:
            if refused.code == "NoSuchHostedZone":
                return None
            raise
        return None if found is None else dns_record(found)

    # --- listings ---

    async def _zone_by_reference(
        self, name: str, caller_reference: str, *, anywhere: bool = False
    ) -> HostedZone | None:
        listing = self._all_zones() if anywhere else self._zones_named(name)
        async with aclosing(listing) as zones:
            async for zone in zones:
                if zone.get("CallerReference") == caller_reference:
                    return await self.get_zone(bare_id(zone["Id"]))
        return None

    async def _zones_named(self, name: str) -> AsyncGenerator[dict[str, Any], None]:
        """The zones called `name`: list_hosted_zones_by_name starts at that name and is
        sorted by name, so the pages are followed until another name shows up."""
        kwargs: dict[str, Any] = {"DNSName": name, "MaxItems": str(self._page_size)}
        while True:
            page = await self._call("list_hosted_zones_by_name", **kwargs)
            for zone in page.get("HostedZones", []):
                if normalize_name(zone["Name"]) != name:
                    return
                yield zone
            if not page.get("IsTruncated"):
                return
            kwargs["DNSName"] = page["NextDNSName"]
            kwargs["HostedZoneId"] = page["NextHostedZoneId"]

    async def _all_zones(self) -> AsyncGenerator[dict[str, Any], None]:
        kwargs: dict[str, Any] = {"MaxItems": str(self._page_size)}
        while True:
            page = await self._call("list_hosted_zones", **kwargs)
            for zone in page.get("HostedZones", []):
                yield zone
            if not page.get("IsTruncated"):
                return
            kwargs["Marker"] = page["NextMarker"]

    async def _record_sets(self, zone_id: str) -> AsyncGenerator[dict[str, Any], None]:
        kwargs: dict[str, Any] = {"HostedZoneId": zone_id, "MaxItems": str(self._page_size)}
        while True:
            page = await self._call("list_resource_record_sets", **kwargs)
            for rrset in page.get("ResourceRecordSets", []):
                yield rrset
            if not page.get("IsTruncated"):
                return
            kwargs["StartRecordName"] = page["NextRecordName"]
            kwargs["StartRecordType"] = page["NextRecordType"]
            if page.get("NextRecordIdentifier"):
                kwargs["StartRecordIdentifier"] = page["NextRecordIdentifier"]
            else:
                kwargs.pop("StartRecordIdentifier", None)

    async def _record_set(self, zone_id: str, name: str, type_: str) -> dict[str, Any] | None:
        """The record set named `name` of type `type_` exactly as stored, or None."""
        name = normalize_name(name)
        page = await self._call(
            "list_resource_record_sets",
            HostedZoneId=zone_id,
            StartRecordName=name,
            StartRecordType=type_,
            MaxItems="1",
        )
        for rrset in page.get("ResourceRecordSets", []):
            if normalize_name(rrset["Name"]) == name and rrset["Type"] == type_:
                return dict(rrset)
        return None

    # --- calls ---

    async def _change(self, zone_id: str, changes: list[tuple[str, dict[str, Any]]]) -> str:
        response = await self._call(
            "change_resource_record_sets",
            cost=len(changes),
            HostedZoneId=zone_id,
            ChangeBatch={
                "Changes": [
                    {"Action": action, "ResourceRecordSet": rrset} for action, rrset in changes
                ]
            },
        )
        return bare_id(response["ChangeInfo"]["Id"])

    async def _call(self, operation: str, *, cost: int = 0, **kwargs: Any) -> Any:
        """One client call in a thread, within the budgets (`cost`: the record changes it
        makes), with throttling retried; other refusals → _Refused."""
        method: Callable[..., Any] = getattr(self._client, operation)
        loop = asyncio.get_running_loop()
        for attempt in range(1, self._max_attempts + 1):
            try:
                return await loop.run_in_executor(
                    self._threads, functools.partial(self._paced, method, cost, kwargs)
                )
            except ClientError as error:
                if _is_retryable(error) and attempt < self._max_attempts:
                    delay = self._backoff(attempt)
                    if self._requests is not None:
                        await loop.run_in_executor(self._threads, self._requests.penalize, delay)
                    await asyncio.sleep(delay)
                    continue
                raise _Refused(operation, error) from error
            except BotoCoreError as error:
                raise InfrastructureError(f"Route 53 {operation} failed: {error}") from error
        raise AssertionError("unreachable")  # pragma: no cover

    def _paced(self, method: Callable[..., Any], cost: int, kwargs: dict[str, Any]) -> Any:
        """In the sending thread: take the tokens at the last moment, then send."""
        if cost and self._record_changes is not None:
            self._record_changes.take(cost)
        if self._requests is not None:
            self._requests.take(1)
        return method(**kwargs)

    def _backoff(self, attempt: int) -> float:
        """Exponential, with full jitter: workers throttled together come back apart."""
        return random.uniform(0, min(self._max_delay, self._base_delay * 2.0**attempt))


class _Refused(InfrastructureError):
    """Route 53 answered with an error; handlers here look at `code` for the expected ones."""

    def __init__(self, operation: str, error: ClientError) -> None:
        self.code = _error_code(error)
        message = error.response.get("Error", {}).get("Message", str(error))
        super().__init__(f"Route 53 {operation} failed: {self.code}: {message}")
