"""Reconcile one client: the hosts it should have against the hosts provisioned for it.

Desired hosts: see desired_hosts.py. Each host goes record (UPSERT, in the zone's next change
batch; a custom hostname's record is the customer's) → record live → resolves to the target →
certificate ready → Ingress applied. Hosts no longer desired (undeploy, rename, domain or
hostname detached or unverified, delete) lose their Ingress, record and, when no other host
uses it, their certificate. A run that waits for a record batch or a certificate is woken by
the job following it; the delay it returns is a safety net.

The client's two statuses combine its hosts: DNS is `Verified` when every host resolves,
`Failed` as soon as one host's verification window ran out (the reason names the host and
what it resolved to), `Verifying` otherwise. TLS is `Issued` when every host's certificate is
ready and its Ingress applied, `Failed` when a certificate failed, `Requested` otherwise.
One exception: a client already serving on its (unchanged) default host keeps `Verified` /
`Issued` while a further host is provisioned, so that attaching a custom domain causes no
downtime; a failure of that host still shows as `Failed`. A failed client stays failed until
something asks again (deploy, rename, attach) or the sweep's slow retry: such a run writes the
records again and opens a new verification window.
"""

from __future__ import annotations

from datetime import datetime

from smarter.application.certificate_steps import ensure_certificate, release_if_unused
from smarter.application.desired_hosts import desired_hosts
from smarter.application.dns_batches import request_record_change
from smarter.application.dns_changes import DnsChangeState
from smarter.application.drift import record_of, repair_drift
from smarter.application.infrastructure import Ingress
from smarter.application.jobs import FollowCertificate
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
    tls_verdict,
)
from smarter.domain.status import DnsVerificationStatus as Dns
from smarter.domain.status import StatusField
from smarter.domain.status import TlsCertificateIssuanceStatus as Tls


class ClientReconciler:
    def __init__(self, p: Provisioner) -> None:
        self._p = p
        self._certificate_hosts: dict[str, tuple[str, ...]] = {}
        # A client serving on its default host keeps its statuses while a further host (its
        # custom host) is provisioned: adding a domain must not take the client down.
        self._serving = False

    async def run(self, client_id: int, *, check_drift: bool = False) -> float | None:
        p = self._p
        client = await p.uow.clients.find(client_id)
        if client is None:
            return None  # deleted: its hosts went with it
        wanted = await desired_hosts(p, client)
        self._certificate_hosts, desired = wanted.certificates, wanted.hosts
        hosts = await self._remove_stale(client, desired)
        if not desired:
            await self._finish_teardown(client)
            return None
        self._serving = client.is_provisioned and any(
            h.role is HostRole.DEFAULT and h.check is HostCheck.VERIFIED for h in hosts.values()
        )
        if check_drift and client.is_provisioned:
            repaired = await repair_drift(p, hosts.values(), lambda h: self._ingress(client, h))
            if repaired:
                client.note(
                    StatusField.DRIFT, "drifted", "repaired", "; ".join(repaired), p.clock.now()
                )
        await self._write_records(client, desired, hosts)
        dns, dns_wait = await self._verify(hosts)
        client.settle_dns(dns.status, dns.reason, p.clock.now(), serving=self._serving)
        wait = dns_wait
        if dns.status is Dns.VERIFIED:
            tls, wait = await self._certify(client, hosts, check_issuer=check_drift)
            client.settle_tls(tls.status, tls.reason, p.clock.now(), serving=self._serving)
        for host in hosts.values():  # every step of this run, in its one commit
            await p.uow.provisioning.save_host(host)
        await p.uow.clients.save_statuses(client)
        await p.uow.commit()
        # A change of the customer's mind while this ran was queued as one more run of this
        # job (the queue runs a key again when asked while it ran).
        return wait

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
        if host.has_own_record:
            await request_record_change(p, host.zone_id, "DELETE", record_of(host))
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
            if want.has_own_record:
                want.record_change_id = await request_record_change(
                    p, want.zone_id, "UPSERT", record_of(want), client.id
                )
            want.check, want.verify_started_at, want.updated_at = HostCheck.VERIFYING, now, now
            hosts[name] = want
            written.append(name)
        if written:
            reason = f"record written for {', '.join(written)}"
            client.settle_dns(Dns.VERIFYING, reason, now, serving=self._serving)

    async def _verify(self, hosts: dict[str, ProvisionedHost]) -> tuple[DnsVerdict, float | None]:
        """Check every verifying host; the verdict, and when to look again if it waits."""
        p, now = self._p, self._p.clock.now()
        window = p.policy.verification_window_seconds
        waits: list[float] = []
        for host in hosts.values():
            if host.check is not HostCheck.VERIFYING:
                continue
            found = await self._resolve(host, now)
            if host.observe_resolution(found or (), now, window) is HostCheck.VERIFYING:
                # A record not live yet: its batch wakes this client; the wait is a safety net.
                live = found is not None
                waits.append(p.backoff(host.verify_started_at, window) if live else window)
        verdict = dns_verdict(hosts.values())
        return verdict, (min(waits) if verdict.waits and waits else None)

    async def _resolve(self, host: ProvisionedHost, now: datetime) -> tuple[str, ...] | None:
        """What the host resolves to; None until its record change is live (asking earlier
        would leave a negative answer in resolvers' caches)."""
        if host.record_change_id is not None:
            change = await self._p.uow.dns_changes.get(host.record_change_id)
            if change is not None and change.state is DnsChangeState.FAILED:
                host.fail(change.error, now)
                return None
            if change is not None and not change.settled:
                return None
            host.record_change_id = None
        return await self._p.resolver.resolve(host.host, host.record_type)

    # -- TLS and Ingress ---------------------------------------------------------------------

    async def _certify(
        self, client: LLMClient, hosts: dict[str, ProvisionedHost], *, check_issuer: bool
    ) -> tuple[TlsVerdict, float | None]:
        """Order (or follow) the hosts' certificates and apply the Ingress of every host whose
        certificate is ready; the verdict, and when to look again if it waits."""
        p, now = self._p, self._p.clock.now()
        retry_failed = client.tls_certificate_issuance_status is not Tls.REQUESTED
        certificates: dict[str, ManagedCertificate] = {}
        for name in sorted({h.certificate_name for h in hosts.values()}):
            certificates[name] = await ensure_certificate(
                p,
                name,
                self._certificate_hosts[name],
                retry_failed=retry_failed,
                check_issuer=check_issuer,
            )
        for host in hosts.values():
            ready = certificates[host.certificate_name].phase is CertificatePhase.READY
            if ready and not host.ingress_applied:
                await p.cluster.apply_ingress(self._ingress(client, host))
                host.ingress_applied, host.updated_at = True, now
        verdict = tls_verdict(certificates.values(), hosts)
        pending = [c.name for c in certificates.values() if c.phase is CertificatePhase.PENDING]
        for name in pending:  # followed by one job, which wakes this client when it is issued
            p.uow.outbox.add(FollowCertificate(name=name))
        return verdict, (p.policy.max_retry_seconds if verdict.waits and pending else None)

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


def _same_place(have: ProvisionedHost, want: ProvisionedHost) -> bool:
    return (have.zone_id, have.record_type, have.target, have.certificate_name) == (
        want.zone_id,
        want.record_type,
        want.target,
        want.certificate_name,
    )
