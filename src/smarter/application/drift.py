"""Drift: what changed behind the platform's back on a ready client's hosts, put back.

The sweep asks a few ready clients a minute (those checked longest ago first), so that the
provider calls stay within their budgets. For each host: its record still holds the target
(a DELETE or an edit by hand is written again, through the zone's next batch), its Ingress is
there with its host and TLS secret (applied again), its certificate is ready (one that is
missing or failed is ordered again by the reconcile run this is part of). What was put back
is returned, for an event in the client's timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from smarter.application.dns_batches import request_record_change
from smarter.application.infrastructure import CertificateState, DnsRecord, Ingress
from smarter.application.provisioning_context import Provisioner
from smarter.domain.provisioning import HostCheck, ProvisionedHost


def record_of(host: ProvisionedHost) -> DnsRecord:
    return DnsRecord(name=host.host, type=host.record_type, values=(host.target,))


async def repair_drift(
    p: Provisioner,
    hosts: Iterable[ProvisionedHost],
    ingress_of: Callable[[ProvisionedHost], Ingress],
) -> list[str]:
    now = p.clock.now()
    repaired: list[str] = []
    certificates: dict[str, CertificateState] = {}
    for host in hosts:
        if host.check is not HostCheck.VERIFIED or not host.ingress_applied:
            continue  # still being provisioned: the reconciler is on it
        repaired += await _record(p, host)
        repaired += await _ingress(p, ingress_of(host))
        name = host.certificate_name
        if name not in certificates:
            certificates[name] = (await p.certificates.status(name)).state
            if certificates[name] is not CertificateState.READY:
                repaired.append(f"certificate {name} was {certificates[name]}: ordered again")
        host.checked_at = now  # stored with the reconcile run's other steps
    return repaired


async def _record(p: Provisioner, host: ProvisionedHost) -> list[str]:
    if not host.has_own_record:
        return []  # a custom hostname's record is the customer's; its checks say so
    found = await p.zones.record(host.zone_id, host.host, host.record_type)
    if found is not None and host.target in found.values:
        return []
    seen = "missing" if found is None else f"{host.record_type} {', '.join(found.values)}"
    await request_record_change(p, host.zone_id, "UPSERT", record_of(host))
    return [f"record of {host.host} was {seen}: written again"]


async def _ingress(p: Provisioner, want: Ingress) -> list[str]:
    have = await p.cluster.get_ingress(want.name)
    if have is not None and (have.host, have.tls_secret) == (want.host, want.tls_secret):
        return []
    await p.cluster.apply_ingress(want)
    seen = "missing" if have is None else f"for {have.host} with secret {have.tls_secret}"
    return [f"Ingress {want.name} was {seen}: applied again"]
