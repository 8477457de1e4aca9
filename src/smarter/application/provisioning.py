"""The provisioning worker's jobs: one entry point, `ProvisioningJobs.run(job)`.

Each run does as much of a job as can be done now, in short idempotent steps, commits, and
returns None when the job is finished or the seconds after which the same job must run again
(DNS propagation, certificate issuance, backoff after a provider error). Nothing sleeps.
With adapters that answer at once (the embedded default), a deploy is ready after one run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from smarter.application.certificate_steps import ensure_certificate, release_if_unused
from smarter.application.client_reconciler import ClientReconciler
from smarter.application.dns_batches import DnsBatcher
from smarter.application.domain_verifier import DomainVerifier
from smarter.application.hostname_verifier import HostnameVerifier
from smarter.application.infrastructure import (
    Certificates,
    Cluster,
    DnsResolver,
    DnsZones,
    InfrastructureError,
)
from smarter.application.jobs import (
    DeleteDomainZone,
    FlushDnsChanges,
    FollowCertificate,
    Job,
    ReconcileClient,
    ReleaseCertificate,
    RenewCertificate,
    SweepProvisioning,
    VerifyCustomDomain,
    VerifyCustomHostname,
)
from smarter.application.ports import Clock, UnitOfWork
from smarter.application.provisioning_context import Provisioner, ProvisioningPolicy
from smarter.domain.environments import Platform
from smarter.domain.provisioning import CertificatePhase

__all__ = ["ProviderFailures", "ProvisioningJobs", "ProvisioningPolicy"]

# Settled record changes are kept a day, to answer "what happened to this host's record".
SETTLED_CHANGES_KEPT = timedelta(days=1)


class ProviderFailures:
    """Provider errors in a row per job key, for the backoff: one per worker process. In
    memory on purpose (a restarted worker starting again from the first delay costs nothing),
    and bounded: the oldest key is forgotten first."""

    def __init__(self, limit: int = 10_000) -> None:
        self._counts: dict[str, int] = {}
        self._limit = limit

    def failed(self, key: str) -> int:
        """Count one more failure of `key`; how many in a row now."""
        count = self._counts.pop(key, 0) + 1
        if len(self._counts) >= self._limit:
            del self._counts[next(iter(self._counts))]
        self._counts[key] = count
        return count

    def succeeded(self, key: str) -> None:
        self._counts.pop(key, None)


class ProvisioningJobs:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        platform: Platform,
        zones: DnsZones,
        resolver: DnsResolver,
        cluster: Cluster,
        certificates: Certificates,
        policy: ProvisioningPolicy,
        failures: ProviderFailures,
    ) -> None:
        self._platform = platform
        self._failures = failures
        self._p = Provisioner(
            uow=uow,
            clock=clock,
            zones=zones,
            resolver=resolver,
            cluster=cluster,
            certificates=certificates,
            policy=policy,
        )

    async def run(self, job: Job) -> float | None:
        """Do what can be done now; None when finished, else seconds until the next run."""
        try:
            delay = await self._handler(job)()
        except InfrastructureError:
            await self._p.uow.rollback()
            failures = self._failures.failed(job.key)
            policy = self._p.policy
            return min(policy.max_retry_seconds, policy.first_retry_seconds * 2.0 ** (failures - 1))
        self._failures.succeeded(job.key)
        return delay

    def _handler(self, job: Job) -> Callable[[], Awaitable[float | None]]:
        match job:
            case ReconcileClient(client_id=client_id, check_drift=check_drift):
                return lambda: ClientReconciler(self._p).run(client_id, check_drift=check_drift)
            case VerifyCustomDomain(domain_id=domain_id):
                return lambda: DomainVerifier(self._p).run(domain_id)
            case VerifyCustomHostname(hostname_id=hostname_id):
                return lambda: HostnameVerifier(self._p).run(hostname_id)
            case DeleteDomainZone(zone_id=zone_id):
                return lambda: self._delete_zone(zone_id)
            case RenewCertificate(name=name):
                return lambda: self._renew(name)
            case FollowCertificate(name=name):
                return lambda: self._follow_certificate(name)
            case ReleaseCertificate(name=name):
                return lambda: self._release(name)
            case FlushDnsChanges(zone_id=zone_id):
                return lambda: DnsBatcher(self._p).run(zone_id)
            case SweepProvisioning():
                return self._sweep
        raise TypeError(f"no handler for the job {job!r}")

    async def _delete_zone(self, zone_id: str) -> None:
        await self._p.zones.delete_zone(zone_id)

    async def _renew(self, name: str) -> float | None:
        """Renew when due and follow the renewal until the new certificate is there."""
        p = self._p
        record = await p.uow.provisioning.certificate(name)
        if record is None:
            return None
        if await release_if_unused(p, name):
            await p.uow.commit()
            return None
        record = await ensure_certificate(p, name, record.hosts, retry_failed=False, renew=True)
        await p.uow.commit()
        return p.backoff(record.requested_at) if record.renewing else None

    async def _follow_certificate(self, name: str) -> float | None:
        """Ask the issuer until the order is settled; then wake the clients waiting for it."""
        p = self._p
        record = await p.uow.provisioning.certificate(name)
        if record is None:
            return None
        record = await ensure_certificate(p, name, record.hosts, retry_failed=False)
        if record.phase is CertificatePhase.PENDING:
            await p.uow.commit()
            return p.poll(record.requested_at)
        for client_id in await p.uow.provisioning.clients_waiting_for(name):
            p.uow.outbox.add(ReconcileClient(client_id=client_id))
        await p.uow.commit()
        return None

    async def _release(self, name: str) -> None:
        if await release_if_unused(self._p, name):
            await self._p.uow.commit()

    async def _sweep(self) -> None:
        """Queue work for every client, certificate and domain that lags its desired state."""
        p = self._p
        batch, records, outbox = p.policy.sweep_batch, p.uow.provisioning, p.uow.outbox
        for client_id in await records.lagging_clients(batch):
            outbox.add(ReconcileClient(client_id=client_id))
        for name in await records.certificates_to_renew(p.clock.now(), batch):
            outbox.add(RenewCertificate(name=name))
        for name in await records.unused_certificates(batch):
            outbox.add(ReleaseCertificate(name=name))
        for domain_id in await records.unverified_domains(batch):
            outbox.add(VerifyCustomDomain(domain_id=domain_id))
        now, policy = p.clock.now(), p.policy
        recheck = now - timedelta(seconds=policy.reverify_seconds)
        for domain_id in await records.domains_to_recheck(recheck, batch):
            outbox.add(VerifyCustomDomain(domain_id=domain_id))
        retry = now - timedelta(seconds=policy.failed_retry_seconds)
        for client_id in await records.failed_clients(retry, batch):
            outbox.add(ReconcileClient(client_id=client_id))
        for client_id in await records.clients_to_check_for_drift(policy.drift_checks_per_sweep):
            outbox.add(ReconcileClient(client_id=client_id, check_drift=True))
        for hostname_id in await p.uow.hostnames.due_for_check(recheck, batch):
            outbox.add(VerifyCustomHostname(hostname_id=hostname_id))
        for zone_id in await p.uow.dns_changes.zones_with_pending(batch):
            outbox.add(FlushDnsChanges(zone_id=zone_id))
        await p.uow.dns_changes.forget_settled(p.clock.now() - SETTLED_CHANGES_KEPT)
        await p.uow.commit()
