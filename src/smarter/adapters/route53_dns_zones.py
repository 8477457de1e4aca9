"""DnsZones on boto3's Route 53 client.

boto3 is synchronous: every call runs in a worker thread (`asyncio.to_thread`). Throttling and
5xx answers are retried here with a short, bounded exponential backoff (botocore's own retries
are switched off in `route53_client`, so there is one policy, not two stacked); every other
failure becomes an `InfrastructureError` naming the operation.

Route 53 quirks handled here:
- A repeated caller reference is refused by Route 53 (moto accepts it and makes a second zone):
  `ensure_zone` looks for the zone made with that reference before creating one.
- Listings are paginated; every listing here follows the pages to the end.
- DELETE needs the record set exactly as it stands (values and TTL): `delete` reads it first.
- Names come back with a trailing dot and octal escapes (`\\052` for `*`); TXT values are
  stored quoted. Both are normalized at this boundary.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from contextlib import aclosing
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from smarter.application.infrastructure import DnsRecord, HostedZone, InfrastructureError

THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "PriorRequestNotComplete", "RequestLimitExceeded"}
)
# Route 53 takes at most 1000 changes per batch; smaller batches keep requests small.
CHANGES_PER_BATCH = 100
_TXT_CHUNK = 255  # a TXT character-string holds at most 255 bytes
_OCTAL_ESCAPE = re.compile(r"\\(\d{3})")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


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


def normalize_name(name: str) -> str:
    """Lower case, no trailing dot, Route 53's octal escapes decoded (`\\052` → `*`)."""
    decoded = _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), name)
    return decoded.rstrip(".").lower()


def quote_txt(value: str) -> str:
    """One TXT value as Route 53 wants it: quoted strings of at most 255 characters each."""
    escaped = [
        value[i : i + _TXT_CHUNK].replace("\\", "\\\\").replace('"', '\\"')
        for i in range(0, max(len(value), 1), _TXT_CHUNK)
    ]
    return " ".join(f'"{chunk}"' for chunk in escaped)


def unquote_txt(value: str) -> str:
    """The inverse of `quote_txt`: the quoted strings joined, escapes removed."""
    chunks = _QUOTED.findall(value)
    if not chunks:
        return value
    return "".join(re.sub(r"\\(.)", r"\1", chunk) for chunk in chunks)


def _zone_id(raw: str) -> str:
    return raw.rsplit("/", 1)[-1]


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
        max_attempts: int = 5,
        base_delay: float = 0.1,
        max_delay: float = 2.0,
    ) -> None:
        self._client = client
        self._page_size = page_size
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_delay = max_delay

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
        return _hosted_zone(created["HostedZone"], created.get("DelegationSet", {}))

    async def find_zone(self, name: str) -> HostedZone | None:
        name = normalize_name(name)
        async with aclosing(self._zones_named(name)) as zones:
            async for zone in zones:
                if not zone.get("Config", {}).get("PrivateZone", False):
                    return await self.get_zone(_zone_id(zone["Id"]))
        return None

    async def get_zone(self, zone_id: str) -> HostedZone | None:
        try:
            response = await self._call("get_hosted_zone", Id=_zone_id(zone_id))
        except _Refused as refused:
            if refused.code != "NoSuchHostedZone":
                raise
            return None
        return _hosted_zone(response["HostedZone"], response.get("DelegationSet", {}))

    async def delete_zone(self, zone_id: str) -> None:
        zone_id = _zone_id(zone_id)
        try:
            zone = await self._call("get_hosted_zone", Id=zone_id)
            apex = normalize_name(zone["HostedZone"]["Name"])
            # Route 53 refuses to delete a zone holding records other than its apex SOA/NS.
            doomed = [
                rrset
                async for rrset in self._record_sets(zone_id)
                if not (normalize_name(rrset["Name"]) == apex and rrset["Type"] in ("SOA", "NS"))
            ]
            for batch in _batches(doomed, CHANGES_PER_BATCH):
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
        changes = [("UPSERT", _record_set(record)) for record in records]
        return await self._change(_zone_id(zone_id), changes)

    async def delete(self, zone_id: str, records: Sequence[DnsRecord]) -> str | None:
        zone_id = _zone_id(zone_id)
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

    async def is_in_sync(self, change_id: str) -> bool:
        if not change_id:
            return True
        try:
            response = await self._call("get_change", Id=_zone_id(change_id))
        except _Refused as refused:
            # Route 53 forgets changes after a while; one it no longer knows was applied.
            if refused.code == "NoSuchChange":
                return True
            raise
        return bool(response["ChangeInfo"]["Status"] == "INSYNC")

    async def records(self, zone_id: str) -> list[DnsRecord]:
        return [
            _dns_record(rrset)
            async for rrset in self._record_sets(_zone_id(zone_id))
            if "ResourceRecords" in rrset  # alias records have no values of their own
        ]

    # --- listings ---

    async def _zone_by_reference(
        self, name: str, caller_reference: str, *, anywhere: bool = False
    ) -> HostedZone | None:
        listing = self._all_zones() if anywhere else self._zones_named(name)
        async with aclosing(listing) as zones:
            async for zone in zones:
                if zone.get("CallerReference") == caller_reference:
                    return await self.get_zone(_zone_id(zone["Id"]))
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
            HostedZoneId=zone_id,
            ChangeBatch={
                "Changes": [
                    {"Action": action, "ResourceRecordSet": rrset} for action, rrset in changes
                ]
            },
        )
        return _zone_id(response["ChangeInfo"]["Id"])

    async def _call(self, operation: str, **kwargs: Any) -> Any:
        """One client call in a thread, with throttling retried; other refusals → _Refused."""
        method: Callable[..., Any] = getattr(self._client, operation)
        for attempt in range(1, self._max_attempts + 1):
            try:
                return await asyncio.to_thread(method, **kwargs)
            except ClientError as error:
                if _is_retryable(error) and attempt < self._max_attempts:
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                raise _Refused(operation, error) from error
            except BotoCoreError as error:
                raise InfrastructureError(f"Route 53 {operation} failed: {error}") from error
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        delay = min(self._max_delay, self._base_delay * 2.0 ** (attempt - 1))
        return delay * random.uniform(0.5, 1.0)  # jitter: workers throttled together spread out


class _Refused(InfrastructureError):
    """Route 53 answered with an error; handlers here look at `code` for the expected ones."""

    def __init__(self, operation: str, error: ClientError) -> None:
        self.code = _error_code(error)
        message = error.response.get("Error", {}).get("Message", str(error))
        super().__init__(f"Route 53 {operation} failed: {self.code}: {message}")


def _hosted_zone(zone: dict[str, Any], delegation_set: dict[str, Any]) -> HostedZone:
    return HostedZone(
        id=_zone_id(zone["Id"]),
        name=normalize_name(zone["Name"]),
        name_servers=tuple(normalize_name(ns) for ns in delegation_set.get("NameServers", [])),
    )


def _record_set(record: DnsRecord) -> dict[str, Any]:
    # Names go out without the trailing dot: moto matches DELETEs against what was written.
    values = [quote_txt(v) if record.type == "TXT" else v for v in record.values]
    return {
        "Name": normalize_name(record.name),
        "Type": record.type,
        "TTL": record.ttl,
        "ResourceRecords": [{"Value": value} for value in values],
    }


def _dns_record(rrset: dict[str, Any]) -> DnsRecord:
    raw = [item["Value"] for item in rrset.get("ResourceRecords", [])]
    values = [
        unquote_txt(v)
        if rrset["Type"] == "TXT"
        else normalize_name(v)
        if rrset["Type"] in ("CNAME", "NS")
        else v
        for v in raw
    ]
    return DnsRecord(
        name=normalize_name(rrset["Name"]),
        type=rrset["Type"],
        values=tuple(values),
        ttl=int(rrset.get("TTL", 0)),
    )


def _batches(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
