"""Route 53's shapes of names, values, zones and record sets, and ours: the conversions.

Names come back with a trailing dot and octal escapes (`\\052` for `*`); TXT values are
stored quoted, in strings of at most 255 characters. Both are normalized at this boundary.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from smarter.application.infrastructure import DnsRecord, HostedZone

_TXT_CHUNK = 255  # a TXT character-string holds at most 255 bytes
_OCTAL_ESCAPE = re.compile(r"\\(\d{3})")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


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


def bare_id(raw: str) -> str:
    return raw.rsplit("/", 1)[-1]


def hosted_zone(zone: dict[str, Any], delegation_set: dict[str, Any]) -> HostedZone:
    return HostedZone(
        id=bare_id(zone["Id"]),
        name=normalize_name(zone["Name"]),
        name_servers=tuple(normalize_name(ns) for ns in delegation_set.get("NameServers", [])),
    )


def record_set(record: DnsRecord) -> dict[str, Any]:
    # Names go out without the trailing dot: moto matches DELETEs against what was written.
    values = [quote_txt(v) if record.type == "TXT" else v for v in record.values]
    return {
        "Name": normalize_name(record.name),
        "Type": record.type,
        "TTL": record.ttl,
        "ResourceRecords": [{"Value": value} for value in values],
    }


def dns_record(rrset: dict[str, Any]) -> DnsRecord:
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


def batches(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
