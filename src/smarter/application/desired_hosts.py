"""The hosts a client should have, from what the customer asked for.

When deployed (and not being deleted): its default host in the platform's zone (on the
account's or owner's wildcard certificate); with a verified custom domain attached, its custom
host in the customer's zone (which the platform holds); and each of its verified custom
hostnames, whose records the customer holds (the platform writes none: it only checks them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smarter.application.infrastructure import HostedZone
from smarter.application.provisioning_context import Provisioner
from smarter.domain.llm_client import LLMClient
from smarter.domain.provisioning import (
    CUSTOMER_HELD,
    HostRole,
    ProvisionedHost,
    host_certificate_name,
    ingress_name,
    wildcard_of,
)


@dataclass
class DesiredHosts:
    hosts: dict[str, ProvisionedHost] = field(default_factory=dict)
    # The names each certificate covers, by certificate name.
    certificates: dict[str, tuple[str, ...]] = field(default_factory=dict)


async def desired_hosts(p: Provisioner, client: LLMClient) -> DesiredHosts:
    desired = DesiredHosts()
    if not client.deployed or client.deletion_requested_at is not None:
        return desired
    assert client.id is not None
    policy = p.policy
    zone = await platform_zone(p)
    certificate, wildcard = wildcard_of(client)

    def want(
        host: str,
        role: HostRole,
        zone_id: str,
        certificate: str,
        names: tuple[str, ...],
        record_type: str = policy.record_type,
        target: str = policy.target,
    ) -> None:
        desired.certificates[certificate] = names
        desired.hosts[host] = ProvisionedHost(
            host=host,
            client_id=client.id or 0,
            role=role,
            zone_id=zone_id,
            record_type=record_type,
            target=target,
            certificate_name=certificate,
            ingress_name=ingress_name(host),
        )

    want(client.default_host, HostRole.DEFAULT, zone.id, certificate, (wildcard,))
    domain, custom_host = client.custom_domain, client.custom_host
    if domain and domain.is_verified and domain.aws_hosted_zone_id and custom_host:
        certificate = host_certificate_name(custom_host)
        want(custom_host, HostRole.CUSTOM, domain.aws_hosted_zone_id, certificate, (custom_host,))
    for hostname in await p.uow.hostnames.of_client(client.id):
        if not hostname.is_verified:
            continue
        name = hostname.hostname
        apex = hostname.is_apex and bool(policy.apex_addresses)
        want(
            name,
            HostRole.HOSTNAME,
            CUSTOMER_HELD,
            host_certificate_name(name),
            (name,),
            record_type="A" if apex else "CNAME",
            target=policy.apex_addresses[0] if apex else policy.hostname_target,
        )
    return desired


async def platform_zone(p: Provisioner) -> HostedZone:
    name = p.policy.platform_zone
    zone = await p.zones.find_zone(name)
    return zone or await p.zones.ensure_zone(name, f"smarter-platform-{name}")
