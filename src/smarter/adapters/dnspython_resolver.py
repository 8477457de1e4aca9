"""DnsResolver on dnspython's async stub resolver.

Verification asks specific resolvers (settings `dns_nameservers`: "host" or "host:port",
"[v6]:port" for IPv6 with a port) or, when none are given, the system's. Nothing is cached:
verification wants to see a record the moment it appears or goes.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence

import dns.asyncresolver
import dns.exception
import dns.inet
import dns.nameserver
import dns.rdatatype
import dns.resolver

from smarter.application.infrastructure import InfrastructureError

SUPPORTED_TYPES = frozenset({"A", "AAAA", "CNAME", "NS", "TXT"})


def parse_nameserver(entry: str) -> dns.nameserver.Do53Nameserver:
    """ "10.0.0.2", "10.0.0.2:5353", "::1", "[::1]:5353" or a host name (looked up once)."""
    entry = entry.strip()
    host, port = entry, 53
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        if rest.startswith(":"):
            port = int(rest[1:])
    elif entry.count(":") == 1:
        host, _, raw_port = entry.partition(":")
        port = int(raw_port)
    if not dns.inet.is_address(host):
        host = str(socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0][4][0])
    return dns.nameserver.Do53Nameserver(host, port)


class DnspythonResolver:
    def __init__(self, nameservers: Sequence[str] = (), timeout: float = 2.0) -> None:
        if nameservers:
            self._resolver = dns.asyncresolver.Resolver(configure=False)
            self._resolver.nameservers = [parse_nameserver(entry) for entry in nameservers]
        else:
            self._resolver = dns.asyncresolver.Resolver()
        self._resolver.cache = None
        self._resolver.timeout = timeout
        self._resolver.lifetime = timeout

    async def resolve(self, name: str, rdtype: str) -> tuple[str, ...]:
        rdtype = rdtype.upper()
        if rdtype not in SUPPORTED_TYPES:
            raise ValueError(f"unsupported record type {rdtype}")
        try:
            answer = await self._resolver.resolve(
                name.rstrip(".") + ".", dns.rdatatype.from_text(rdtype), search=False
            )
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return ()
        except dns.exception.Timeout as error:
            raise InfrastructureError(f"DNS lookup of {name} {rdtype} timed out") from error
        except dns.resolver.NoNameservers as error:
            raise InfrastructureError(
                f"DNS lookup of {name} {rdtype}: no nameserver answered ({error})"
            ) from error
        except dns.exception.DNSException as error:
            raise InfrastructureError(f"DNS lookup of {name} {rdtype} failed: {error}") from error
        return tuple(_text(rdata, rdtype) for rdata in answer)


def _text(rdata: object, rdtype: str) -> str:
    if rdtype == "TXT":
        return b"".join(rdata.strings).decode("utf-8", "replace")  # type: ignore[attr-defined]
    if rdtype in ("CNAME", "NS"):
        target = rdata.target  # type: ignore[attr-defined]
        return str(target.to_text(omit_final_dot=True)).lower()
    return str(rdata.to_text())  # type: ignore[attr-defined]
