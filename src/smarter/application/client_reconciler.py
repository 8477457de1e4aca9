"""Reconcile one client: the hosts it should have against the hosts provisioned for it.

Desired: when deployed (and not being deleted), its default host in the platform's zone and,
with a verified custom domain attached, its custom host in the customer's zone. Each host goes
record (UPSERT) → change in sync → resolves to the ingress target → certificate ready →
Ingress applied. Hosts no longer desired (undeploy, rename, domain detached, delete) lose their
Ingress, record and, when no other host uses it, their certificate.

The client's two statuses combine its hosts: DNS is `Verified` when every host resolves,
`Failed` as soon as one host's verification window ran out (the reason names the host and
what it resolved to), `Verifying` otherwise. TLS is `Issued` when every host's certificate is
ready and its Ingress applied, `Failed` when a certificate failed, `Requested` otherwise.
One exception: a client already serving on its (unchanged) default host keeps `Verified` /
`Issued` while a further host is provisioned, so that attaching a custom domain causes no
downtime; a failure of that host still shows as `Failed`. A failed client stays failed until
something asks again (deploy, rename, attach): such a run writes the records again and opens
a new verification window.
"""

from __future__ import annotations

from smarter.application.certificate_steps import ensure_certificate, release_if_unused
from smarter.application.infrastructure import DnsRecord, HostedZone, Ingress
from smarter.application.provisioning_context import Provisioner
from smarter.domain.llm_client import LLMClient
from smarter.domain.provisioning import (
    CertificatePhase,
    DnsVerdict,
    HostCheck,
    HostRole,
    ManagedCertificate,
    ProvisionedHost,
    TlsVerdict,
    dns_verdict,
    host_certificate_name,
    ingress_name,
    tls_verdict,
    wildcard_of,
)
from smarter.domain.status import DnsVerificationStatus as Dns
from smarter.domain.status import TlsCertificateIssuanceStatus as Tls

Desire = tuple[object, ...]


def record_of(host: ProvisionedHost) -> DnsRecord:
    return DnsRecord(name=host.host, type=host.record_type, values=(host.target,))


def _desire(client: LLMClient) -> Desire:
    """What the customer asked for, as far as provisioning is concerned."""
    domain = client.custom_domain
    return (
        client.deployed,
        client.deletion_requested_at is not None,
        client.default_host,
        client.custom_host,
        None if domain is None else (domain.is_verified, domain.aws_hosted_zone_id),
    )


class ClientReconciler:
    def __init__(self, p: Provisioner) -> None:
        self._p = p
        self._certificate_hosts: dict[str, tuple[str, ...]] = {}
        # A client serving on its default host keeps its statuses while a further host (its
        # custom host) is provisioned: adding a domain must not take the client down.
        self._serving = False

    async def run(self, client_id: int) -> float | None:
        p = self._p
        client = await p.uow.clients.find(client_id)
        if client is None:
            return None  # deleted: its hosts went with it
        desired = await self._desired(client)
        hosts = await self._remove_stale(client, desired)
        if not desired:
            await self._finish_teardown(client)
            return None
        self._serving = client.is_provisioned and any(
            h.role is HostRole.DEFAULT and h.check is HostCheck.VERIFIED for h in hosts.values()
        )
        await self._write_records(client, desired, hosts)
        dns, dns_wait = await self._verify(hosts)
        client.settle_dns(dns.status, dns.reason, p.clock.now(), serving=self._serving)
        wait = dns_wait
        if dns.status is Dns.VERIFIED:
            tls, wait = await self._certify(client, hosts)
            client.settle_tls(tls.status, tls.reason, p.clock.now(), serving=self._serving)
        await p.uow.clients.save_statuses(client)
        await p.uow.commit()
        return await self._next_run(client, wait)

    # -- desired state -----------------------------------------------------------------------

    async def _desired(self, client: LLMClient) -> dict[str, ProvisionedHost]:
        if not client.deployed or client.deletion_requested_at is not None:
            return {}
        assert client.id is not None
        policy = self._p.policy
        zone = await self._platform_zone()
        certificate, wildcard = wildcard_of(client)
        self._certificate_hosts[certificate] = (wildcard,)
        wanted = [(client.default_host, HostRole.DEFAULT, zone.id, certificate)]
        domain, custom_host = client.custom_domain, client.custom_host
        if domain and domain.is_verified and domain.aws_hosted_zone_id and custom_host:
            certificate = host_certificate_name(custom_host)
            self._certificate_hosts[certificate] = (custom_host,)
            wanted.append((custom_host, HostRole.CUSTOM, domain.aws_hosted_zone_id, certificate))
        return {
            host: ProvisionedHost(
                host=host,
                client_id=client.id,
                role=role,
                zone_id=zone_id,
                record_type=policy.record_type,
                target=policy.target,
                certificate_name=certificate,
                ingress_name=ingress_name(host),
            )
            for host, role, zone_id, certificate in wanted
        }

    async def _platform_zone(self) -> HostedZone:
        name = self._p.policy.platform_zone
        zone = await self._p.zones.find_zone(name)
        return zone or await self._p.zones.ensure_zone(name, f"smarter-platform-{name}")

    # -- teardown ----------------------------------------------------------------------------

    async def _remove_stale(
        self, client: LLMClient, desired: dict[str, ProvisionedHost]
    ) -> dict[str, ProvisionedHost]:
        """Tear down the provisioned hosts that are not desired as they are; the rest."""
        assert client.id is not None
        kept: dict[str, ProvisionedHost] = {}
        still_used = {want.certificate_name for want in desired.values()}
        removed = False
        for host in await self._p.uow.provisioning.hosts_of(client.id):
            want = desired.get(host.host)
            if want is not None and _same_place(host, want):
                kept[host.host] = host
                continue
            await self._tear_down(host, keep_certificate=host.certificate_name in still_used)
            removed = True
        if removed:
            await self._p.uow.commit()
        return kept

    async def _tear_down(self, host: ProvisionedHost, *, keep_certificate: bool) -> None:
        """Ingress, record, then the certificate unless another host (or this client's new
        host, after a rename) still uses it: a certificate ordered again costs CA quota."""
        p = self._p
        await p.cluster.delete_ingress(host.ingress_name)
        await p.zones.delete(host.zone_id, [record_of(host)])
        await p.uow.provisioning.delete_host(host.host)
        if not keep_certificate:
            await release_if_unused(p, host.certificate_name)

    async def _finish_teardown(self, client: LLMClient) -> None:
        p = self._p
        client.reset_statuses("undeployed: record, certificate and Ingress removed", p.clock.now())
        if client.deletion_requested_at is not None:
            await p.uow.clients.delete(client)
        else:
            await p.uow.clients.save_statuses(client)
        await p.uow.commit()

    # -- DNS ---------------------------------------------------------------------------------

    async def _write_records(
        self,
        client: LLMClient,
        desired: dict[str, ProvisionedHost],
        hosts: dict[str, ProvisionedHost],
    ) -> None:
        """UPSERT the record of every new host, and of every failed one (a new try)."""
        p, now = self._p, self._p.clock.now()
        written = []
        for name, want in desired.items():
            have = hosts.get(name)
            if have is not None and have.check is not HostCheck.FAILED:
                continue
            want.change_id = await p.zones.upsert(want.zone_id, [record_of(want)])
            want.check, want.verify_started_at, want.updated_at = HostCheck.VERIFYING, now, now
            await p.uow.provisioning.save_host(want)
            hosts[name] = want
            written.append(name)
        if written:
            reason = f"record written for {', '.join(written)}"
            client.settle_dns(Dns.VERIFYING, reason, now, serving=self._serving)
            await p.uow.clients.save_statuses(client)
            await p.uow.commit()

    async def _verify(self, hosts: dict[str, ProvisionedHost]) -> tuple[DnsVerdict, float | None]:
        """Check every verifying host; the verdict, and when to look again if it waits."""
        p, now = self._p, self._p.clock.now()
        window = p.policy.verification_window_seconds
        waits: list[float] = []
        for host in hosts.values():
            if host.check is not HostCheck.VERIFYING:
                continue
            if (
                host.observe_resolution(await self._resolve(host), now, window)
                is HostCheck.VERIFYING
            ):
                waits.append(p.backoff(host.verify_started_at, window))
            await p.uow.provisioning.save_host(host)
        verdict = dns_verdict(hosts.values())
        return verdict, (min(waits) if verdict.waits and waits else None)

    async def _resolve(self, host: ProvisionedHost) -> tuple[str, ...]:
        """What the host resolves to, once the zone's change is live (asking earlier would
        leave a negative answer in resolvers' caches)."""
        if host.change_id is not None:
            if not await self._p.zones.is_in_sync(host.change_id):
                return ()
            host.change_id = None
        return await self._p.resolver.resolve(host.host, host.record_type)

    # -- TLS and Ingress ---------------------------------------------------------------------

    async def _certify(
        self, client: LLMClient, hosts: dict[str, ProvisionedHost]
    ) -> tuple[TlsVerdict, float | None]:
        """Order (or follow) the hosts' certificates and apply the Ingress of every host whose
        certificate is ready; the verdict, and when to look again if it waits."""
        p, now = self._p, self._p.clock.now()
        retry_failed = client.tls_certificate_issuance_status is not Tls.REQUESTED
        certificates: dict[str, ManagedCertificate] = {}
        for name in sorted({h.certificate_name for h in hosts.values()}):
            certificates[name] = await ensure_certificate(
                p, name, self._certificate_hosts[name], retry_failed=retry_failed
            )
        for host in hosts.values():
            ready = certificates[host.certificate_name].phase is CertificatePhase.READY
            if ready and not host.ingress_applied:
                await p.cluster.apply_ingress(self._ingress(client, host))
                host.ingress_applied, host.updated_at = True, now
                await p.uow.provisioning.save_host(host)
        verdict = tls_verdict(certificates.values(), hosts)
        pending = [
            c.requested_at for c in certificates.values() if c.phase is CertificatePhase.PENDING
        ]
        return verdict, (p.backoff(min(pending)) if verdict.waits and pending else None)

    @staticmethod
    def _ingress(client: LLMClient, host: ProvisionedHost) -> Ingress:
        return Ingress(
            name=host.ingress_name,
            host=host.host,
            tls_secret=host.certificate_name,
            labels={
                "app.kubernetes.io/managed-by": "smarter",
                "smarter.sh/account": str(client.account_number),
                "smarter.sh/client": str(client.id),
                "smarter.sh/host-role": host.role.value,
            },
        )

    # -- what next ---------------------------------------------------------------------------

    async def _next_run(self, client: LLMClient, wait: float | None) -> float | None:
        """Run again at once if the customer changed their mind while we worked."""
        assert client.id is not None
        fresh = await self._p.uow.clients.find(client.id)
        if fresh is not None and _desire(fresh) != _desire(client):
            return 0.0
        return wait


def _same_place(have: ProvisionedHost, want: ProvisionedHost) -> bool:
    return (have.zone_id, have.record_type, have.target, have.certificate_name) == (
        want.zone_id,
        want.record_type,
        want.target,
        want.certificate_name,
    )
