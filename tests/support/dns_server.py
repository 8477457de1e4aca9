"""An authoritative DNS server on loopback serving what moto's Route 53 holds, at query time.

Real delegation needs a registrar; here the test plays it: `delegate(domain, zone_id)` says
that names under `domain` are served from that hosted zone, as if the domain's NS records at
its registrar pointed at the zone's name servers. Then:

- NS of `domain` itself answers the registrar's delegation: the zone's name servers as they
  were at `delegate` time, or the `name_servers` given (to play a customer who typed them
  wrong). Route 53 gives every moto zone the same four, so tests tell zones apart by content.
- Any other question under `domain` is answered from the zone's record sets, read from
  Route 53 (boto3 on the moto endpoint, paginated) when the question arrives: exact names,
  then Route 53 wildcards (`*.parent`); a CNAME is followed through delegated zones.
  A name with no records answers NXDOMAIN (NOERROR without answers when it has records of
  other types or names below it); a zone deleted from Route 53 answers SERVFAIL.
- Names outside every delegation answer REFUSED. The longest delegated domain wins.

Answers carry TTL 0, so resolvers see every change at once. UDP and TCP share one free port.

Use: `server = ZoneDnsServer(route53_client); server.start(); server.delegate(...);
... server.port ...; server.stop()` (or `with ZoneDnsServer(client) as server:`).

Run by hand (a manual end-to-end run): `python -m tests.support.dns_server --port 5353
--endpoint http://127.0.0.1:5000` (or without --endpoint: it starts moto itself); it plays a
registrar that delegates every zone by its name, checking for new zones every second
(`delegate_all`).
"""

from __future__ import annotations

import argparse
import re
import threading
import time
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError
from dnslib import QTYPE, RCODE, RR, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer

MAX_CNAME_CHAIN = 8
_OCTAL_ESCAPE = re.compile(r"\\(\d{3})")
# moto renders its SOA value as "{'Value': '...'}"; real Route 53 gives the bare value.
_MOTO_WRAPPED = re.compile(r"^\{'Value': '(.*)'\}$")


def _normalize(name: str) -> str:
    return _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), name).rstrip(".").lower()


def _is_under(name: str, domain: str) -> bool:
    return name == domain or name.endswith("." + domain)


class _ZoneMissing(Exception):
    pass


class _Delegation:
    def __init__(self, domain: str, zone_id: str, name_servers: tuple[str, ...]) -> None:
        self.domain = domain
        self.zone_id = zone_id
        self.name_servers = name_servers


class ZoneDnsServer(BaseResolver):  # type: ignore[misc]
    def __init__(self, route53_client: Any, address: str = "127.0.0.1") -> None:
        self._client = route53_client
        self.address = address
        self.port = 0
        self._delegations: dict[str, _Delegation] = {}
        self._lock = threading.Lock()
        self._servers: list[DNSServer] = []
        self.queries = 0  # how many questions arrived (tests may check caching)

    # --- the registrar ---

    def delegate(
        self, domain: str, zone_id: str, *, name_servers: Sequence[str] | None = None
    ) -> None:
        domain = _normalize(domain)
        zone_id = zone_id.rsplit("/", 1)[-1]
        if name_servers is None:
            zone = self._client.get_hosted_zone(Id=zone_id)
            name_servers = zone.get("DelegationSet", {}).get("NameServers", [])
        delegation = _Delegation(domain, zone_id, tuple(_normalize(ns) for ns in name_servers))
        with self._lock:
            self._delegations[domain] = delegation

    def undelegate(self, domain: str) -> None:
        with self._lock:
            self._delegations.pop(_normalize(domain), None)

    def delegate_all(self) -> None:
        """Delegate every hosted zone's name to a zone of that name (the one delegated
        already while it exists, else the oldest listed); drop delegations of deleted zones."""
        zones: dict[str, list[str]] = {}
        kwargs: dict[str, Any] = {}
        while True:
            page = self._client.list_hosted_zones(**kwargs)
            for zone in page["HostedZones"]:
                zone_id = zone["Id"].rsplit("/", 1)[-1]
                zones.setdefault(_normalize(zone["Name"]), []).append(zone_id)
            if not page.get("IsTruncated"):
                break
            kwargs["Marker"] = page["NextMarker"]
        with self._lock:
            current = {d: self._delegations[d].zone_id for d in self._delegations}
        for domain in set(current) - set(zones):
            self.undelegate(domain)
        for domain, ids in zones.items():
            if current.get(domain) not in ids:
                self.delegate(domain, ids[0])

    # --- the server ---

    def start(self, port: int = 0) -> ZoneDnsServer:
        """Listen on `port` (0: a free one) for UDP and TCP."""
        quiet = DNSLogger(log="-recv,-send,-request,-reply,-truncated,-data", logf=lambda _: None)
        for _ in range(10):
            udp = DNSServer(self, address=self.address, port=port, logger=quiet)
            port = udp.server.server_address[1]
            try:
                tcp = DNSServer(self, address=self.address, port=port, tcp=True, logger=quiet)
            except OSError:  # that port is taken for TCP: try another pair
                udp.server.server_close()
                if port:
                    raise
                continue
            self.port = port
            self._servers = [udp, tcp]
            for server in self._servers:
                # A short poll interval makes stop() quick (dnslib's default waits 0.5 s).
                thread = threading.Thread(
                    target=server.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
                )
                thread.start()
            return self
        raise RuntimeError("no free port for both UDP and TCP on " + self.address)

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
            server.server.server_close()
        self._servers = []

    def __enter__(self) -> ZoneDnsServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def nameserver(self) -> str:
        """This server as a "host:port" resolver entry."""
        return f"{self.address}:{self.port}"

    # --- answering (dnslib calls this in a server thread) ---

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        with self._lock:
            self.queries += 1
        reply = request.reply()
        try:
            self._answer(request, reply)
        except _ZoneMissing:
            reply.header.rcode = RCODE.SERVFAIL
        except Exception:  # a bug here must not kill the server thread
            reply.header.rcode = RCODE.SERVFAIL
        return reply

    def _answer(self, request: DNSRecord, reply: DNSRecord) -> None:
        qname = _normalize(str(request.q.qname))
        qtype = QTYPE.get(request.q.qtype)
        delegation = self._delegation_for(qname)
        if delegation is None:
            reply.header.rcode = RCODE.REFUSED
            return
        if qname == delegation.domain and qtype == "NS":
            for ns in delegation.name_servers:
                reply.add_answer(*RR.fromZone(f"{qname}. 0 IN NS {ns}."))
            return
        name = qname
        for hop in range(MAX_CNAME_CHAIN):
            rrsets, exists = self._lookup(delegation, name)
            wanted = [r for r in rrsets if r["Type"] == qtype or qtype == "ANY"]
            if wanted:
                for rrset in wanted:
                    _add(reply, name, rrset)
                return
            cnames = [r for r in rrsets if r["Type"] == "CNAME"]
            if not cnames:
                if hop == 0 and not exists:
                    reply.header.rcode = RCODE.NXDOMAIN
                return
            _add(reply, name, cnames[0])
            name = _normalize(cnames[0]["ResourceRecords"][0]["Value"])
            next_delegation = self._delegation_for(name)
            if next_delegation is None:
                return  # the target lives elsewhere: the resolver asks there
            delegation = next_delegation

    def _delegation_for(self, name: str) -> _Delegation | None:
        with self._lock:
            matches = [d for d in self._delegations.values() if _is_under(name, d.domain)]
        return max(matches, key=lambda d: len(d.domain), default=None)

    def _lookup(self, delegation: _Delegation, name: str) -> tuple[list[dict[str, Any]], bool]:
        """The record sets at `name` (a wildcard's when the name has none) and whether the
        name exists at all (records of any type, or names below it).

        Each step reads only the records from one name on (Route 53 lists them in DNS order,
        a name's children right after it), so a question costs one or two small requests."""
        here, following = self._record_sets_at(delegation.zone_id, name)
        if here:
            return here, True
        if following is not None and following.endswith("." + name):
            return [], True  # an empty non-terminal: only names below it have records
        labels = name.split(".")
        for i in range(1, len(labels)):
            parent = ".".join(labels[i:])
            if not _is_under(parent, delegation.domain):
                break
            wildcard, _ = self._record_sets_at(delegation.zone_id, "*." + parent)
            if wildcard:
                return wildcard, True
            if self._record_sets_at(delegation.zone_id, parent)[0]:
                break  # an existing name stops the wildcard search below it
        return [], False

    def _record_sets_at(self, zone_id: str, name: str) -> tuple[list[dict[str, Any]], str | None]:
        """The record sets named `name`, and the first name listed after them (or None)."""
        kwargs: dict[str, Any] = {"HostedZoneId": zone_id, "StartRecordName": name}
        found: list[dict[str, Any]] = []
        while True:
            try:
                page = self._client.list_resource_record_sets(MaxItems="8", **kwargs)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "NoSuchHostedZone":
                    raise _ZoneMissing(zone_id) from error
                raise
            for rrset in page.get("ResourceRecordSets", []):
                other = _normalize(rrset["Name"])
                if other != name:
                    return found, other
                found.append(rrset)
            if not page.get("IsTruncated"):
                return found, None
            kwargs["StartRecordName"] = page["NextRecordName"]
            kwargs["StartRecordType"] = page["NextRecordType"]


def _add(reply: DNSRecord, name: str, rrset: dict[str, Any]) -> None:
    kind = rrset["Type"]
    for item in rrset.get("ResourceRecords", []):
        value = _MOTO_WRAPPED.sub(r"\1", item["Value"])
        if kind in ("CNAME", "NS", "PTR") and not value.endswith("."):
            value += "."
        for rr in RR.fromZone(f"{name}. 0 IN {kind} {value}"):
            reply.add_answer(rr)


def main() -> None:
    from smarter.adapters.route53_dns_zones import route53_client
    from tests.support.moto_server import TEST_CREDENTIALS, start_moto_server

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5353)
    parser.add_argument("--endpoint", help="moto's URL (default: start moto on a free port)")
    args = parser.parse_args()
    endpoint = args.endpoint or start_moto_server()[1]
    client = route53_client("us-east-1", endpoint, **TEST_CREDENTIALS)
    server = ZoneDnsServer(client).start(args.port)
    print(f"Route 53 (moto): {endpoint}", flush=True)
    print(f"DNS: {server.nameserver} (UDP and TCP)", flush=True)
    try:
        while True:
            server.delegate_all()
            time.sleep(1)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
