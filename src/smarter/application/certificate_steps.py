"""Certificates the platform orders: at most one order at a time per certificate, renewal
at a fraction of the lifetime, deletion when the last host using it is gone.

The `managed_certificates` record keeps what was ordered and when, so that a pending order
survives restarts. The issuer's own status is asked while an order is pending, and when the
caller checks for drift (a certificate deleted behind the platform's back is then ordered
again); a certificate the record holds ready is trusted otherwise, so that a thousand clients
sharing a wildcard do not ask the issuer a thousand times.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from smarter.application.infrastructure import CertificateState, CertificateStatus
from smarter.application.provisioning_context import Provisioner
from smarter.domain.provisioning import CertificatePhase, ManagedCertificate


async def ensure_certificate(
    p: Provisioner,
    name: str,
    hosts: Sequence[str],
    *,
    retry_failed: bool,
    renew: bool = False,
    check_issuer: bool = True,
) -> ManagedCertificate:
    """Order the certificate if there is none (or it failed and `retry_failed`), renew it when
    due and `renew` (the certificate's own job), and record what the issuer says.

    An order is claimed in the database and committed before it is placed, so that two
    workers reconciling clients that share a wildcard never order it twice."""
    records, now = p.uow.provisioning, p.clock.now()
    record = await records.certificate(name)
    if (
        record is not None
        and record.phase is CertificatePhase.READY
        and not (renew or check_issuer)
        and tuple(record.hosts) == tuple(hosts)
    ):
        return record
    status = await p.certificates.status(name)
    retry = status.state is CertificateState.FAILED and retry_failed
    if status.state is CertificateState.ABSENT or (retry and not (record and record.renewing)):
        order = ManagedCertificate(
            name=name, hosts=tuple(hosts), phase=CertificatePhase.PENDING, requested_at=now
        )
        stale = now - timedelta(seconds=p.policy.certificate_claim_seconds)
        if not await records.claim_certificate(order, stale):
            return await records.certificate(name) or order  # another worker orders it
        await p.uow.commit()
        await p.certificates.request(name, hosts)
        record, status = order, await p.certificates.status(name)  # instant issuers answer
    if record is None:  # ordered before a crash lost our record of it: adopt the order
        record = ManagedCertificate(
            name=name, hosts=tuple(hosts), phase=CertificatePhase.PENDING, requested_at=now
        )
    _observe(p, record, status, now)
    if renew and record.renewal_due(now):
        await p.certificates.request(name, hosts, renew=True)
        record.renewing, record.requested_at = True, now
        _observe(p, record, await p.certificates.status(name), now)
    await records.save_certificate(record)
    return record


async def release_if_unused(p: Provisioner, name: str) -> bool:
    """Delete the certificate and its secret when no provisioned host uses it any more."""
    if await p.uow.provisioning.certificate_users(name):
        return False
    await p.certificates.delete(name)
    await p.uow.provisioning.delete_certificate(name)
    return True


def _observe(
    p: Provisioner, record: ManagedCertificate, status: CertificateStatus, now: datetime
) -> None:
    fraction = p.policy.certificate_renew_fraction
    if status.state is CertificateState.READY:
        renewed = not record.renewing or (
            status.not_after is None
            or record.not_after is None
            or status.not_after > record.not_after
        )
        if renewed:
            record.mark_ready(status.not_before, status.not_after, fraction)
    elif status.state is CertificateState.PENDING:
        if not (record.renewing and record.phase is CertificatePhase.READY):
            record.phase = CertificatePhase.PENDING  # while renewing, the old one serves
    elif status.state is CertificateState.FAILED:
        reason = status.reason or "the certificate authority did not issue it"
        if record.renewing and record.phase is CertificatePhase.READY:
            record.renewing, record.reason = False, f"renewal failed: {reason}"
            # Try again later; the old certificate serves until it expires.
            record.renew_after = now + timedelta(seconds=p.policy.max_retry_seconds)
            if record.not_after is not None and record.not_after <= now:
                record.phase = CertificatePhase.FAILED
        else:
            record.phase, record.reason = CertificatePhase.FAILED, reason
